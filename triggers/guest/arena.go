package guest

// strArena serves the typed decoding (Record.Legacy) its strings: the
// event's input is copied once into a string, and a string member without
// escapes is a substring of it instead of an allocation of its own (in
// wasm an allocation is most of what decoding a short string costs). The
// strings it returns are immutable copies of the input and may be kept;
// one of them keeps the whole event's copy alive.
type strArena struct {
	in []byte
	s  string // string(in), made on first use
}

// sub returns raw (a slice of a.in) as a string.
func (a *strArena) sub(raw []byte) string {
	if a == nil || len(raw) == 0 || len(a.in) == 0 {
		return string(raw)
	}
	off := cap(a.in) - cap(raw)
	if off < 0 || off+len(raw) > len(a.in) || &a.in[off] != &raw[0] {
		return string(raw) // not from the input
	}
	if a.s == "" {
		a.s = string(a.in)
	}
	return a.s[off : off+len(raw)]
}

// str decodes a raw JSON string value (with its quotes), as str does.
func (a *strArena) str(raw []byte) (string, error) {
	if len(raw) < 2 || raw[0] != '"' {
		return "", errSyntax
	}
	inner := raw[1 : len(raw)-1]
	if !plain(inner) {
		return unquoteBytes(inner), nil
	}
	return a.sub(inner), nil
}

func (a *strArena) rawStr(raw []byte) string {
	if len(raw) == 0 {
		return ""
	}
	s, _ := a.str(raw)
	return s
}

// strSlab hands out string headers for AttributeValue.S and N (each a
// *string) from one []string allocated for a whole event, sized from the
// host's index (which counts every image's attributes), instead of one
// []string per image. A string header kept by a handler keeps the slab
// alive, as a kept string keeps the event's copy (strArena) alive.
type strSlab struct{ s []string }

// take returns n zero string headers: from the slab while it has them,
// else (or with a nil slab) a []string of their own.
func (sl *strSlab) take(n int) []string {
	if sl == nil || len(sl.s) < n {
		return make([]string, n)
	}
	s := sl.s[:n:n]
	sl.s = sl.s[n:]
	return s
}
