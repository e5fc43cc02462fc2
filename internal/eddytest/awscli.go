package eddytest

import (
	"os"
	"path/filepath"
	"testing"
)

// AWSCLIEnv is an environment for the AWS CLI and boto3 that reads nothing
// of the user's: dummy credentials, us-east-1, no instance metadata
// lookups, HOME and the config files in a temporary directory. PATH and
// the pyenv and locale variables pass through so the CLI is found.
func AWSCLIEnv(t testing.TB) []string {
	dir := t.TempDir()
	env := []string{
		"HOME=" + dir,
		"AWS_CONFIG_FILE=" + filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "credentials"),
		"AWS_ACCESS_KEY_ID=AKIDEXAMPLE",
		"AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		"AWS_DEFAULT_REGION=us-east-1",
		"AWS_REGION=us-east-1",
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_PAGER=",
	}
	for _, k := range []string{"PATH", "PYENV_ROOT", "PYENV_VERSION", "LANG", "TMPDIR"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}
