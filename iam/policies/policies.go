// Package policies keeps the IAM policies attached to principals (users
// arn:aws:iam::<account>:user/<name>, roles arn:aws:iam::<account>:role/<name>)
// in the store's policies key space, parsed and cached in memory, and serves
// them over /eddy/policies. api asks it for a principal's policies on every
// request (Store implements api's Policies seam).
//
// Layout of the space (store.SpacePolicies):
//
//	┌───────────────┬──────┬─────────────┐      ┌──────────────────────┐
//	│ principal ARN │ 0x00 │ policy name │  ──► │ policy document JSON │
//	└───────────────┴──────┴─────────────┘      └──────────────────────┘
//
// Open mode: while no policy is stored at all, For reports enforced=false
// and every request is allowed, as before eddy had policies. Once one
// policy exists, every principal is evaluated (default deny), so a
// principal with no policy can do nothing.
package policies

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/eddydb/eddy/iam"
	"github.com/eddydb/eddy/internal/kv"
	"github.com/eddydb/eddy/store"
)

// ErrNotFound is returned for a policy that is not stored.
var ErrNotFound = errors.New("policies: no such policy")

// InputError is a principal ARN or policy name the store refuses
// (IAM's InvalidInput).
type InputError struct{ Message string }

func (e *InputError) Error() string { return e.Message }

func inputErrorf(format string, args ...any) error {
	return &InputError{fmt.Sprintf(format, args...)}
}

// Store is the policies of all principals. Safe for concurrent use.
type Store struct {
	ks store.KeySpace

	mu sync.RWMutex
	// by principal: the parsed policies in name order.
	by map[string][]iam.Named
	// docs by principal and name: the documents as stored.
	docs map[string]map[string][]byte
	n    int
}

// Open loads the policies stored in ks.
func Open(ks store.KeySpace) (*Store, error) {
	s := &Store{ks: ks, by: map[string][]iam.Named{}, docs: map[string]map[string][]byte{}}
	err := ks.Scan(nil, nil, func(k, v []byte) error {
		principal, name, ok := bytes.Cut(k, []byte{0})
		if !ok {
			return fmt.Errorf("policies: malformed key %q", k)
		}
		p, err := iam.Parse(v)
		if err != nil {
			return fmt.Errorf("policies: stored policy %s of %s: %w", name, principal, err)
		}
		s.setLocked(string(principal), string(name), bytes.Clone(v), p)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

func key(principal, name string) []byte {
	return append(append([]byte(principal), 0), name...)
}

// CheckName checks a principal ARN and a policy name: IAM's name rules
// ([\w+=,.@-]{1,128}) and an IAM user or role ARN.
func CheckName(principal, name string) error {
	if !strings.HasPrefix(principal, "arn:") || strings.Count(principal, ":") < 5 || strings.ContainsRune(principal, 0) {
		return inputErrorf("principal %q is not an ARN (arn:aws:iam::<account>:user/<name> or :role/<name>)", principal)
	}
	if name == "" || len(name) > 128 {
		return inputErrorf("policy name must be 1 to 128 characters")
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("_+=,.@-", c)) {
			return inputErrorf("policy name %q may contain only letters, digits and _+=,.@-", name)
		}
	}
	return nil
}

// Put parses doc and stores it as principal's policy name, replacing one
// of that name. A malformed document is refused with *iam.MalformedError.
func (s *Store) Put(principal, name string, doc []byte) error {
	if err := CheckName(principal, name); err != nil {
		return err
	}
	p, err := iam.Parse(doc)
	if err != nil {
		return err
	}
	doc = bytes.Clone(doc)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.ks.Write(true, func(w kv.Writer) error { return w.Set(key(principal, name), doc) }); err != nil {
		return err
	}
	s.setLocked(principal, name, doc, p)
	return nil
}

func (s *Store) setLocked(principal, name string, doc []byte, p *iam.Policy) {
	if s.docs[principal] == nil {
		s.docs[principal] = map[string][]byte{}
	}
	if _, ok := s.docs[principal][name]; !ok {
		s.n++
	}
	s.docs[principal][name] = doc
	list := slices.DeleteFunc(slices.Clone(s.by[principal]), func(n iam.Named) bool { return n.Name == name })
	list = append(list, iam.Named{Name: name, Policy: p})
	slices.SortFunc(list, func(a, b iam.Named) int { return strings.Compare(a.Name, b.Name) })
	s.by[principal] = list // a new slice: readers of the old one are unaffected
}

// Delete removes principal's policy name.
func (s *Store) Delete(principal, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.docs[principal][name]; !ok {
		return ErrNotFound
	}
	if err := s.ks.Write(true, func(w kv.Writer) error { return w.Delete(key(principal, name)) }); err != nil {
		return err
	}
	delete(s.docs[principal], name)
	if len(s.docs[principal]) == 0 {
		delete(s.docs, principal)
	}
	s.n--
	list := slices.DeleteFunc(slices.Clone(s.by[principal]), func(n iam.Named) bool { return n.Name == name })
	if len(list) == 0 {
		delete(s.by, principal)
	} else {
		s.by[principal] = list
	}
	return nil
}

// Get returns the document of principal's policy name.
func (s *Store) Get(principal, name string) ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	doc, ok := s.docs[principal][name]
	if !ok {
		return nil, ErrNotFound
	}
	return doc, nil
}

// Attached is one stored policy's place.
type Attached struct {
	PrincipalArn string
	PolicyName   string
}

// List returns the policies attached to principal (every principal's when
// empty), by principal then name.
func (s *Store) List(principal string) []Attached {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := []Attached{}
	for p, names := range s.docs {
		if principal != "" && p != principal {
			continue
		}
		for n := range names {
			out = append(out, Attached{p, n})
		}
	}
	slices.SortFunc(out, func(a, b Attached) int {
		return cmpOr(strings.Compare(a.PrincipalArn, b.PrincipalArn), strings.Compare(a.PolicyName, b.PolicyName))
	})
	return out
}

func cmpOr(a, b int) int {
	if a != 0 {
		return a
	}
	return b
}

// For returns principal's policies and whether policies are enforced at
// all (false while none is stored: open mode). The slice must not be
// modified.
func (s *Store) For(principal string) (policies []iam.Named, enforced bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.by[principal], s.n > 0
}
