package search

import (
	"bytes"
	"encoding/json"
	"path"
	"sort"
	"strings"
)

// hlRequest is a request's highlight section.
type hlRequest struct {
	fields []hlField
	pre    string
	post   string
}

type hlField struct {
	name      string // a path, or a pattern with *
	size      int    // fragment_size in bytes (default 100)
	fragments int    // number_of_fragments (default 5; 0: the whole value)
}

type hlOpts struct {
	PreTags           []string `json:"pre_tags"`
	PostTags          []string `json:"post_tags"`
	FragmentSize      *int     `json:"fragment_size"`
	NumberOfFragments *int     `json:"number_of_fragments"`
	Type              string   `json:"type"`
	RequireFieldMatch *bool    `json:"require_field_match"`
}

func parseHighlight(raw json.RawMessage) (*hlRequest, error) {
	var top struct {
		hlOpts
		Fields json.RawMessage `json:"fields"`
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.DisallowUnknownFields()
	if err := d.Decode(&top); err != nil {
		return nil, parsingErr("[highlight] %v", err)
	}
	h := &hlRequest{pre: "<em>", post: "</em>"}
	if len(top.PreTags) > 0 {
		h.pre = top.PreTags[0]
	}
	if len(top.PostTags) > 0 {
		h.post = top.PostTags[0]
	}
	defSize, defFrags := 100, 5
	if top.FragmentSize != nil {
		defSize = *top.FragmentSize
	}
	if top.NumberOfFragments != nil {
		defFrags = *top.NumberOfFragments
	}
	// fields: {"f": {...}} or [{"f": {...}}, ...]
	var list []map[string]hlOpts
	f := bytes.TrimSpace(top.Fields)
	switch {
	case len(f) == 0:
		return nil, parsingErr("[highlight] requires fields")
	case f[0] == '[':
		if err := json.Unmarshal(f, &list); err != nil {
			return nil, parsingErr("[highlight] fields: %v", err)
		}
	default:
		var one map[string]hlOpts
		if err := json.Unmarshal(f, &one); err != nil {
			return nil, parsingErr("[highlight] fields: %v", err)
		}
		names := make([]string, 0, len(one))
		for n := range one {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			list = append(list, map[string]hlOpts{n: one[n]})
		}
	}
	for _, m := range list {
		for name, o := range m {
			hf := hlField{name: name, size: defSize, fragments: defFrags}
			if o.FragmentSize != nil {
				hf.size = *o.FragmentSize
			}
			if o.NumberOfFragments != nil {
				hf.fragments = *o.NumberOfFragments
			}
			if hf.size < 18 || hf.fragments < 0 || hf.fragments > 100 {
				return nil, illegalArg("[highlight] fragment_size must be >= 18 and number_of_fragments 0..100")
			}
			h.fields = append(h.fields, hf)
		}
	}
	if len(h.fields) > 100 {
		return nil, illegalArg("[highlight] more than 100 fields")
	}
	return h, nil
}

// apply highlights the source's values of the requested fields with the
// terms the query looked for in them.
func (h *hlRequest) apply(x *Index, terms map[string][]hlTerm, source []byte) map[string][]string {
	if len(terms) == 0 || len(source) == 0 {
		return nil
	}
	var doc any
	if err := decode(source, &doc); err != nil {
		return nil // the source was validated when indexed
	}
	values := map[string][]string{}
	flatten("", doc, values)
	out := map[string][]string{}
	for _, f := range h.fields {
		for field, ts := range terms {
			if !matchField(f.name, field) {
				continue
			}
			base, keyword := strings.CutSuffix(field, ".keyword")
			var frags []string
			for _, v := range values[base] {
				frags = append(frags, h.fragments(x, v, ts, keyword, f)...)
				if f.fragments > 0 && len(frags) >= f.fragments {
					frags = frags[:f.fragments]
					break
				}
			}
			if len(frags) > 0 {
				out[field] = frags
			}
		}
	}
	return out
}

func matchField(pattern, field string) bool {
	if pattern == field {
		return true
	}
	if !strings.Contains(pattern, "*") {
		return false
	}
	ok, err := path.Match(pattern, field)
	return err == nil && ok
}

// flatten collects the string values of v by dotted path.
func flatten(prefix string, v any, out map[string][]string) {
	switch v := v.(type) {
	case map[string]any:
		for k, sub := range v {
			flatten(join(prefix, k), sub, out)
		}
	case []any:
		for _, sub := range v {
			flatten(prefix, sub, out)
		}
	case string:
		out[prefix] = append(out[prefix], v)
	}
}

// fragments highlights one value: the whole value when it is short or
// number_of_fragments is 0, else windows of about fragment_size bytes
// around the matches.
func (h *hlRequest) fragments(x *Index, v string, ts []hlTerm, keyword bool, f hlField) []string {
	if keyword {
		for _, t := range ts {
			if (t.whole && t.term == v) || (t.prefix && strings.HasPrefix(v, t.term)) {
				return []string{h.pre + v + h.post}
			}
		}
		return nil
	}
	toks := x.text.Analyze([]byte(v))
	hit := make([]bool, len(toks))
	any := false
	for i, tok := range toks {
		for _, t := range ts {
			term := string(tok.Term)
			if term == t.term || (t.prefix && strings.HasPrefix(term, t.term)) {
				hit[i], any = true, true
				break
			}
		}
	}
	if !any {
		return nil
	}
	mark := func(from, to int) string { // tokens [from, to)
		var b strings.Builder
		pos := toks[from].Start
		if from == 0 {
			pos = 0
		}
		for i := from; i < to; i++ {
			if hit[i] {
				b.WriteString(v[pos:toks[i].Start])
				b.WriteString(h.pre)
				b.WriteString(v[toks[i].Start:toks[i].End])
				b.WriteString(h.post)
				pos = toks[i].End
			}
		}
		end := toks[to-1].End
		if to == len(toks) {
			end = len(v)
		}
		b.WriteString(v[pos:end])
		return b.String()
	}
	if f.fragments == 0 || len(v) <= f.size {
		return []string{mark(0, len(toks))}
	}
	var out []string
	for i := 0; i < len(toks) && len(out) < f.fragments; i++ {
		if !hit[i] {
			continue
		}
		from, to := i, i+1
		for {
			grew := false
			if to < len(toks) && toks[to].End-toks[from].Start <= f.size {
				to++
				grew = true
			}
			if from > 0 && toks[to-1].End-toks[from-1].Start <= f.size && from > i-3 {
				from--
				grew = true
			}
			if !grew {
				break
			}
		}
		out = append(out, mark(from, to))
		i = to - 1
	}
	return out
}
