package auth

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// Credential is one access key and whom it belongs to.
type Credential struct {
	AccessKeyID     string
	SecretAccessKey string
	// SessionToken, when set, must come with every request signed by the
	// key (X-Amz-Security-Token), as temporary credentials' tokens do.
	SessionToken string
	// Expires, when not zero, is when the key stops working: later requests
	// get ExpiredTokenException.
	Expires time.Time
	// UserName is the user the key belongs to; ARN its principal ARN.
	UserName string
	ARN      string
}

// Keys is an immutable set of credentials by access key ID.
type Keys struct {
	byID map[string]Credential
}

// NewKeys returns the set of creds; a duplicate access key ID, or one
// without an ID or a secret, is an error.
func NewKeys(creds []Credential) (*Keys, error) {
	k := &Keys{byID: make(map[string]Credential, len(creds))}
	for _, c := range creds {
		if c.AccessKeyID == "" || c.SecretAccessKey == "" {
			return nil, fmt.Errorf("auth: user %q: an access key needs an ID and a secret", c.UserName)
		}
		if _, dup := k.byID[c.AccessKeyID]; dup {
			return nil, fmt.Errorf("auth: access key %s given twice", c.AccessKeyID)
		}
		k.byID[c.AccessKeyID] = c
	}
	return k, nil
}

// Lookup returns the credential of an access key ID.
func (k *Keys) Lookup(accessKeyID string) (Credential, bool) {
	if k == nil {
		return Credential{}, false
	}
	c, ok := k.byID[accessKeyID]
	return c, ok
}

// Len is the number of access keys.
func (k *Keys) Len() int {
	if k == nil {
		return 0
	}
	return len(k.byID)
}

// UserARN is the ARN of IAM user name in account.
func UserARN(account, name string) string { return "arn:aws:iam::" + account + ":user/" + name }

// LoadCredentialsFile reads an AWS shared-credentials file (the format of
// ~/.aws/credentials): one profile per [section], with aws_access_key_id,
// aws_secret_access_key and optionally aws_session_token. eddy reads two
// more keys of its own in a profile:
//
//	eddy_user        the user name the key belongs to (default: the profile's name)
//	eddy_expiration  when the key expires, RFC 3339 (e.g. 2026-12-31T00:00:00Z)
//
// Users get the ARN arn:aws:iam::<account>:user/<name>. Comments (# or ;)
// and blank lines are ignored; other keys (region, output) are allowed.
func LoadCredentialsFile(path, account string) ([]Credential, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("auth: credentials file: %w", err)
	}
	defer f.Close()
	creds, err := ParseCredentials(f, account)
	if err != nil {
		return nil, fmt.Errorf("auth: credentials file %s: %w", path, err)
	}
	return creds, nil
}

// ParseCredentials parses the shared-credentials format (LoadCredentialsFile).
func ParseCredentials(r io.Reader, account string) ([]Credential, error) {
	profiles := map[string]map[string]string{}
	var order []string
	var cur map[string]string
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if line[0] == '[' {
			if !strings.HasSuffix(line, "]") {
				return nil, fmt.Errorf("line %d: a section header ends with ]", n)
			}
			name := strings.TrimSpace(line[1 : len(line)-1])
			name = strings.TrimSpace(strings.TrimPrefix(name, "profile "))
			if name == "" {
				return nil, fmt.Errorf("line %d: empty profile name", n)
			}
			if profiles[name] == nil {
				profiles[name] = map[string]string{}
				order = append(order, name)
			}
			cur = profiles[name]
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("line %d: want key = value", n)
		}
		if cur == nil {
			return nil, fmt.Errorf("line %d: %s outside a [profile]", n, strings.TrimSpace(k))
		}
		cur[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	var creds []Credential
	var errs []error
	for _, name := range order {
		p := profiles[name]
		id, secret := p["aws_access_key_id"], p["aws_secret_access_key"]
		if id == "" && secret == "" {
			continue // a profile of settings only
		}
		if id == "" || secret == "" {
			errs = append(errs, fmt.Errorf("[%s]: needs both aws_access_key_id and aws_secret_access_key", name))
			continue
		}
		user := name
		if u := p["eddy_user"]; u != "" {
			user = u
		}
		c := Credential{AccessKeyID: id, SecretAccessKey: secret, SessionToken: p["aws_session_token"], UserName: user, ARN: UserARN(account, user)}
		if e := p["eddy_expiration"]; e != "" {
			t, err := time.Parse(time.RFC3339, e)
			if err != nil {
				errs = append(errs, fmt.Errorf("[%s]: eddy_expiration %q: want RFC 3339, e.g. 2026-12-31T00:00:00Z", name, e))
				continue
			}
			c.Expires = t
		}
		creds = append(creds, c)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if len(creds) == 0 {
		return nil, errors.New("no profile has an access key")
	}
	return creds, nil
}
