package attr

import (
	"errors"

	"github.com/cockroachdb/apd/v3"
)

// Number is an exact DynamoDB number: up to 38 significant digits, magnitude
// between 1E-130 and 9.9999999999999999999999999999999999999E+125, or zero.
type Number struct{ d apd.Decimal }

// MaxPrecision is DynamoDB's limit on significant digits.
const MaxPrecision = 38

// ctx is the context for arithmetic: 38 digits, exact operations only are
// accepted (results that need rounding are reported, as DynamoDB does).
var ctx = apd.Context{
	Precision:   MaxPrecision,
	MaxExponent: apd.MaxExponent,
	MinExponent: apd.MinExponent,
	Traps:       apd.DefaultTraps,
	Rounding:    apd.RoundHalfEven,
}

// Number errors, with DynamoDB's messages. The caller wraps them in a
// ValidationException.
var (
	ErrNumberNotNumeric = errors.New("The parameter cannot be converted to a numeric value")
	ErrNumberPrecision  = errors.New("Attempting to store more than 38 significant digits in a Number")
	ErrNumberOverflow   = errors.New("Number overflow. Attempting to store a number with magnitude larger than supported range")
	ErrNumberUnderflow  = errors.New("Number underflow. Attempting to store a number with magnitude smaller than supported range")
)

// NumberError carries the offending text for ErrNumberNotNumeric, so the
// message reads "...numeric value: b" as DynamoDB's does.
type NumberError struct {
	Err  error
	Text string
}

func (e *NumberError) Error() string {
	if e.Err == ErrNumberNotNumeric && e.Text != "" {
		return e.Err.Error() + ": " + e.Text
	}
	return e.Err.Error()
}

func (e *NumberError) Unwrap() error { return e.Err }

// ParseNumber parses client number text ("1e3", "-0.50", "+7") and checks
// DynamoDB's precision and range.
func ParseNumber(s string) (Number, error) {
	var n Number
	if s == "" {
		return n, &NumberError{Err: ErrNumberNotNumeric}
	}
	if !looksNumeric(s) {
		return n, &NumberError{Err: ErrNumberNotNumeric, Text: s}
	}
	if _, _, err := n.d.SetString(s); err != nil {
		return n, &NumberError{Err: ErrNumberNotNumeric, Text: s}
	}
	if err := n.normalize(); err != nil {
		return Number{}, err
	}
	return n, nil
}

// looksNumeric accepts what DynamoDB accepts: optional sign, digits with an
// optional point, optional exponent. apd would also take "NaN" and "Inf".
func looksNumeric(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
		digits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			digits++
		}
	}
	if digits == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		exp := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			exp++
		}
		if exp == 0 {
			return false
		}
	}
	return i == len(s)
}

// normalize strips trailing zeros, turns -0 into 0, and checks the limits.
func (n *Number) normalize() error {
	n.d.Reduce(&n.d)
	if n.d.IsZero() {
		n.d.SetInt64(0)
		return nil
	}
	if n.d.NumDigits() > MaxPrecision {
		return &NumberError{Err: ErrNumberPrecision}
	}
	// adjusted exponent: position of the most significant digit.
	adj := int64(n.d.Exponent) + n.d.NumDigits() - 1
	if adj > 125 {
		return &NumberError{Err: ErrNumberOverflow}
	}
	if adj < -130 {
		return &NumberError{Err: ErrNumberUnderflow}
	}
	return nil
}

// MustNumber parses canonical text known to be valid.
func MustNumber(s string) Number {
	n, err := ParseNumber(s)
	if err != nil {
		panic("attr: invalid stored number " + s)
	}
	return n
}

// String returns the canonical text: plain notation, no exponent, no
// redundant zeros, as DynamoDB returns numbers.
func (n Number) String() string {
	return n.d.Text('f')
}

// Cmp compares two numbers.
func (n Number) Cmp(o Number) int { return n.d.Cmp(&o.d) }

// Add returns n+o, checked against DynamoDB's limits. A sum that needs more
// than 38 digits is refused with the overflow message, as DynamoDB answers
// 1e50 - 1 (scylla test_number.py::test_update_expression_plus_imprecise,
// run against DynamoDB).
func (n Number) Add(o Number) (Number, error) {
	var r Number
	cond, err := ctx.Add(&r.d, &n.d, &o.d)
	if err != nil || cond.Inexact() {
		return Number{}, &NumberError{Err: ErrNumberOverflow}
	}
	return r, r.normalize()
}

// Sub returns n-o, checked against DynamoDB's limits.
func (n Number) Sub(o Number) (Number, error) {
	var r Number
	cond, err := ctx.Sub(&r.d, &n.d, &o.d)
	if err != nil || cond.Inexact() {
		return Number{}, &NumberError{Err: ErrNumberOverflow}
	}
	return r, r.normalize()
}

// Sign returns -1, 0 or 1.
func (n Number) Sign() int { return n.d.Sign() }

// Digits returns the significant digits and the exponent of the most
// significant one (value = 0.d1d2... × 10^(exp+1)); zero gives "", 0.
func (n Number) Digits() (digits string, adjExp int) {
	if n.d.IsZero() {
		return "", 0
	}
	c := n.d.Coeff.String()
	return c, int(int64(n.d.Exponent) + int64(len(c)) - 1)
}

// CompareNumberText compares two canonical number texts numerically.
func CompareNumberText(a, b string) int {
	if a == b {
		return 0
	}
	return MustNumber(a).Cmp(MustNumber(b))
}

// CanonicalNumber validates client text and returns its canonical form.
func CanonicalNumber(s string) (string, error) {
	n, err := ParseNumber(s)
	if err != nil {
		return "", err
	}
	return n.String(), nil
}
