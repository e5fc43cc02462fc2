package attr

// DynamoDB's item-size arithmetic, used for the 400 KB item limit, the 1 MB
// page limit, key-size limits and capacity units:
//
//	item   = Σ len(name) + size(value)
//	S      = UTF-8 length            B = length
//	N      = 1 + ceil(integer digits / 2) + ceil(fraction digits / 2) + 1 if negative (see numberSize)
//	BOOL, NULL = 1
//	SS, NS, BS = Σ members
//	L      = 3 + Σ (1 + size(element))
//	M      = 3 + Σ (1 + len(name) + size(value))

// MaxItemSize is DynamoDB's 400 KB item limit.
const MaxItemSize = 400 * 1024

// ItemSize returns the size DynamoDB charges for an item.
func ItemSize(it map[string]Value) int {
	n := 0
	for k, v := range it {
		n += len(k) + Size(v)
	}
	return n
}

// Size returns the size of one value.
func Size(v Value) int {
	switch v.typ {
	case TypeS:
		return len(v.s)
	case TypeN:
		return numberSize(v.s)
	case TypeB:
		return len(v.Bytes())
	case TypeBOOL, TypeNULL:
		return 1
	case TypeSS:
		n := 0
		for _, s := range v.Strings() {
			n += len(s)
		}
		return n
	case TypeNS:
		n := 0
		for _, s := range v.Strings() {
			n += numberSize(s)
		}
		return n
	case TypeBS:
		n := 0
		for _, b := range v.BytesSet() {
			n += len(b)
		}
		return n
	case TypeL:
		n := 3
		for _, e := range v.List() {
			n += 1 + Size(e)
		}
		return n
	case TypeM:
		n := 3
		for k, e := range v.Map() {
			n += 1 + len(k) + Size(e)
		}
		return n
	}
	return 0
}

// numberSize sizes a number from its canonical text (plain decimal, no
// exponent, zero as "0"), by the rule DynamoDB's 400 KB gate shows to the
// byte:
//
//	1 + ceil(integer significant digits / 2) + ceil(fraction significant digits / 2) + 1 if negative
//
// with leading and trailing zeros trimmed; zero costs 1. The two halves of
// the decimal point are counted apart, so "1.5" costs 3 where "15" costs 2,
// and "3.14159" 5 where the developer guide's "1 byte per two significant
// digits plus 1" says 4. An integer's trailing zeros are not significant
// ("100" costs 2) unless a fraction follows ("100.5" costs 4), nor are a pure
// fraction's leading zeros ("0.0000001" costs 2). The figures are
// nubo-db/dynamodb-conformance's capture (src/item-size.ts,
// CAPTURED_NUMBER_BYTES, eu-west-2, 2026-08-18: an accept/reject pair either
// side of the gate per literal).
func numberSize[T ~string | ~[]byte](s T) int {
	neg := 0
	if len(s) > 0 && s[0] == '-' {
		neg = 1
		s = s[1:]
	}
	ip, fp := s, s[:0]
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			ip, fp = s[:i], s[i+1:]
			break
		}
	}
	for len(ip) > 0 && ip[0] == '0' {
		ip = ip[1:]
	}
	for len(fp) > 0 && fp[len(fp)-1] == '0' {
		fp = fp[:len(fp)-1]
	}
	if len(ip) == 0 && len(fp) == 0 {
		return 1 // zero, never negative
	}
	if len(fp) == 0 {
		for len(ip) > 0 && ip[len(ip)-1] == '0' {
			ip = ip[:len(ip)-1]
		}
	}
	if len(ip) == 0 {
		for len(fp) > 0 && fp[0] == '0' {
			fp = fp[1:]
		}
	}
	return 1 + (len(ip)+1)/2 + (len(fp)+1)/2 + neg
}
