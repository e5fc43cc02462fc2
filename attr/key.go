package attr

// Order-preserving key encoding for key attributes (S, N, B). Encoded keys
// compare bytewise in the order DynamoDB sorts them, and are self-delimiting
// so a sort key can follow a partition key:
//
//	S, B:  bytes with 0x00 escaped as 0x00 0xFF, then the terminator 0x00 0x01
//	       (UTF-8 byte order is DynamoDB's string order; B is unsigned bytes).
//
//	N:     zero      0x80
//	       positive  0x81 uint16be(exp+0x4000) {digit+1}* 0x00
//	       negative  0x7F uint16be(0x4000-exp) {10-digit}* 0xFF
//
// where the number is 0.d1d2...dk × 10^exp with d1 ≠ 0 and dk ≠ 0 (canonical
// numbers have no trailing zeros). For positives a larger exponent, then a
// larger digit string, sorts later; shorter strings sort before their
// extensions because the terminator 0x00 is below every digit byte (1..10).
// Negatives invert both, with a terminator above every digit byte.

// AppendKey appends the order-preserving encoding of a key value.
// It panics for types other than S, N and B.
func AppendKey(dst []byte, v Value) []byte {
	switch v.typ {
	case TypeS:
		return appendEscaped(dst, v.s)
	case TypeB:
		return appendEscaped(dst, string(v.Bytes()))
	case TypeN:
		return appendNumberKey(dst, v.Number())
	}
	panic("attr: key value of type " + v.typ.String())
}

func appendEscaped(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			dst = append(dst, 0, 0xFF)
		} else {
			dst = append(dst, s[i])
		}
	}
	return append(dst, 0, 1)
}

func appendNumberKey(dst []byte, n Number) []byte {
	digits, adj := n.Digits()
	if digits == "" {
		return append(dst, 0x80)
	}
	exp := adj + 1 // value = 0.digits × 10^exp
	if n.Sign() > 0 {
		e := uint16(exp + 0x4000)
		dst = append(dst, 0x81, byte(e>>8), byte(e))
		for i := 0; i < len(digits); i++ {
			dst = append(dst, digits[i]-'0'+1)
		}
		return append(dst, 0x00)
	}
	e := uint16(0x4000 - exp)
	dst = append(dst, 0x7F, byte(e>>8), byte(e))
	for i := 0; i < len(digits); i++ {
		dst = append(dst, 10-(digits[i]-'0'))
	}
	return append(dst, 0xFF)
}

// KeyPrefixEnd returns the smallest key greater than every key that starts
// with prefix (for range scans and range deletions).
func KeyPrefixEnd(prefix []byte) []byte {
	end := append([]byte(nil), prefix...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] != 0xFF {
			end[i]++
			return end[:i+1]
		}
	}
	return nil // prefix is all 0xFF: no upper bound
}
