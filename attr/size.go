package attr

// DynamoDB's item-size arithmetic, used for the 400 KB item limit, the 1 MB
// page limit, key-size limits and capacity units:
//
//	item   = Σ len(name) + size(value)
//	S      = UTF-8 length            B = length
//	N      = ceil(significant digits / 2) + 1
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

// numberSize counts significant digits of canonical text directly.
func numberSize[T ~string | ~[]byte](s T) int {
	sig, started, trailingZeros := 0, false, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			continue
		}
		if c == '0' && !started {
			continue
		}
		started = true
		sig++
		if c == '0' {
			trailingZeros++
		} else {
			trailingZeros = 0
		}
	}
	sig -= trailingZeros
	return (sig+1)/2 + 1
}
