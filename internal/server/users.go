package server

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/eddydb/eddy/auth"
	"github.com/eddydb/eddy/internal/kv"
	"github.com/eddydb/eddy/store"
)

// users is the users store: users and their access keys in the database
// (store.SpaceUsers), managed through /eddy/users (eddy users add, list,
// remove, rotate). Their keys are accepted beside the credentials file's.
//
//	key: <user name>   value: userRecord as JSON (secrets included: SigV4
//	                   verification needs them, as AWS's own does)
//
// A user has one or two access keys, as an IAM user has: rotate adds one
// and, past two, retires the oldest.
type users struct {
	ks      store.KeySpace
	mu      sync.Mutex   // serializes changes
	change  func() error // the keys changed: rebuild the verifier's
	account string
}

type userRecord struct {
	UserName string    `json:"UserName"`
	ARN      string    `json:"Arn"`
	Created  time.Time `json:"CreateDate"`
	Keys     []userKey `json:"Keys"`
}

type userKey struct {
	AccessKeyID     string    `json:"AccessKeyId"`
	SecretAccessKey string    `json:"SecretAccessKey"`
	Created         time.Time `json:"CreateDate"`
}

// userNameRE is IAM's rule for user names.
var userNameRE = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)

func (u *users) list() ([]userRecord, error) {
	var out []userRecord
	err := u.ks.Scan(nil, nil, func(_, v []byte) error {
		var r userRecord
		if err := json.Unmarshal(v, &r); err != nil {
			return err
		}
		out = append(out, r)
		return nil
	})
	return out, err
}

// credentials are every user's keys.
func (u *users) credentials() ([]auth.Credential, error) {
	rs, err := u.list()
	var creds []auth.Credential
	for _, r := range rs {
		for _, k := range r.Keys {
			creds = append(creds, auth.Credential{AccessKeyID: k.AccessKeyID, SecretAccessKey: k.SecretAccessKey, UserName: r.UserName, ARN: r.ARN})
		}
	}
	return creds, err
}

func (u *users) get(name string) (userRecord, bool, error) {
	v, ok, err := u.ks.Get([]byte(name))
	if err != nil || !ok {
		return userRecord{}, false, err
	}
	var r userRecord
	return r, true, json.Unmarshal(v, &r)
}

func (u *users) put(r userRecord) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return u.ks.Write(true, func(w kv.Writer) error { return w.Set([]byte(r.UserName), b) })
}

func newAccessKey() userKey {
	var id [10]byte
	var secret [30]byte
	_, _ = rand.Read(id[:])
	_, _ = rand.Read(secret[:])
	return userKey{AccessKeyID: "AKIA" + base32.StdEncoding.EncodeToString(id[:])[:16],
		SecretAccessKey: base64.StdEncoding.EncodeToString(secret[:]), Created: time.Now().UTC()}
}

// httpError is an answer of /eddy/users other than 200.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

// ServeHTTP serves /eddy/users:
//
//	GET    /eddy/users                 {"Users":[{"UserName","Arn","CreateDate","AccessKeyIds"}]}
//	POST   /eddy/users {"UserName"}    the user and its first key, secret included (shown this once)
//	DELETE /eddy/users/NAME            the user and its keys
//	POST   /eddy/users/NAME/rotate     a new key (past two, the oldest is retired)
//	POST   /eddy/users/NAME/rotate?retire=KEYID   retire that key (not the last)
func (u *users) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	out, err := u.serve(r)
	if err != nil {
		status := http.StatusInternalServerError
		var he *httpError
		if errors.As(err, &he) {
			status = he.status
		}
		writeAuthJSON(w, status, "application/json", map[string]string{"message": err.Error()})
		return
	}
	b, _ := json.Marshal(out)
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}

type userView struct {
	UserName     string
	Arn          string
	CreateDate   time.Time
	AccessKeyIds []string
}

func view(r userRecord) userView {
	v := userView{UserName: r.UserName, Arn: r.ARN, CreateDate: r.Created, AccessKeyIds: []string{}}
	for _, k := range r.Keys {
		v.AccessKeyIds = append(v.AccessKeyIds, k.AccessKeyID)
	}
	return v
}

func (u *users) serve(r *http.Request) (any, error) {
	rest := strings.Trim(strings.TrimPrefix(r.URL.Path, "/eddy/users"), "/")
	name, action, _ := strings.Cut(rest, "/")
	switch {
	case rest == "" && r.Method == http.MethodGet:
		rs, err := u.list()
		if err != nil {
			return nil, err
		}
		views := []userView{}
		for _, x := range rs {
			views = append(views, view(x))
		}
		return map[string]any{"Users": views}, nil
	case rest == "" && r.Method == http.MethodPost:
		var in struct{ UserName string }
		if err := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<16)).Decode(&in); err != nil {
			return nil, &httpError{http.StatusBadRequest, "want a JSON body {\"UserName\": ...}"}
		}
		return u.add(in.UserName)
	case name != "" && action == "" && r.Method == http.MethodDelete:
		return u.remove(name)
	case name != "" && action == "rotate" && r.Method == http.MethodPost:
		return u.rotate(name, r.URL.Query().Get("retire"))
	}
	return nil, &httpError{http.StatusNotFound, "no such route: " + r.Method + " " + r.URL.Path}
}

func (u *users) add(name string) (any, error) {
	if !userNameRE.MatchString(name) {
		return nil, &httpError{http.StatusBadRequest, fmt.Sprintf("user name %q: 1 to 64 of letters, digits and +=,.@_-", name)}
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if _, ok, err := u.get(name); err != nil || ok {
		if ok {
			err = &httpError{http.StatusConflict, "user " + name + " already exists"}
		}
		return nil, err
	}
	k := newAccessKey()
	rec := userRecord{UserName: name, ARN: "", Created: k.Created, Keys: []userKey{k}}
	return u.commit(rec, k)
}

func (u *users) commit(rec userRecord, k userKey) (any, error) {
	if rec.ARN == "" {
		rec.ARN = u.arn(rec.UserName)
	}
	if err := u.put(rec); err != nil {
		return nil, err
	}
	if err := u.change(); err != nil {
		return nil, err
	}
	out := map[string]any{"User": view(rec)}
	if k.AccessKeyID != "" {
		out["AccessKey"] = map[string]string{"AccessKeyId": k.AccessKeyID, "SecretAccessKey": k.SecretAccessKey}
	}
	return out, nil
}

func (u *users) remove(name string) (any, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if _, ok, err := u.get(name); err != nil || !ok {
		if !ok && err == nil {
			err = &httpError{http.StatusNotFound, "no user " + name}
		}
		return nil, err
	}
	rec, _, _ := u.get(name)
	if err := u.ks.Write(true, func(w kv.Writer) error { return w.Delete([]byte(name)) }); err != nil {
		return nil, err
	}
	if err := u.change(); err != nil {
		// The last keys: put the user back rather than lock everyone out.
		if perr := u.put(rec); perr != nil {
			return nil, errors.Join(err, perr)
		}
		return nil, &httpError{http.StatusConflict, "user " + name + " holds the last access keys: removing it would lock everyone out"}
	}
	return map[string]any{}, nil
}

func (u *users) rotate(name, retire string) (any, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	rec, ok, err := u.get(name)
	if err != nil || !ok {
		if !ok && err == nil {
			err = &httpError{http.StatusNotFound, "no user " + name}
		}
		return nil, err
	}
	if retire != "" {
		keep := rec.Keys[:0]
		for _, k := range rec.Keys {
			if k.AccessKeyID != retire {
				keep = append(keep, k)
			}
		}
		switch {
		case len(keep) == len(rec.Keys):
			return nil, &httpError{http.StatusNotFound, "user " + name + " has no access key " + retire}
		case len(keep) == 0:
			return nil, &httpError{http.StatusConflict, "access key " + retire + " is " + name + "'s last: rotate first, or remove the user"}
		}
		rec.Keys = keep
		return u.commit(rec, userKey{})
	}
	k := newAccessKey()
	rec.Keys = append(rec.Keys, k)
	if len(rec.Keys) > 2 {
		rec.Keys = rec.Keys[len(rec.Keys)-2:]
	}
	return u.commit(rec, k)
}

// arn is set by the server: the user's ARN in its account.
func (u *users) arn(name string) string { return auth.UserARN(u.account, name) }
