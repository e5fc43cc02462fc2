package auth

// The exceptions AWS answers an unauthenticated request with; Error.Code
// holds one of them.
const (
	MissingAuthenticationToken = "MissingAuthenticationTokenException"
	IncompleteSignature        = "IncompleteSignatureException"
	UnrecognizedClient         = "UnrecognizedClientException"
	InvalidSignature           = "InvalidSignatureException"
	ExpiredToken               = "ExpiredTokenException"
)

// The messages of the services (DynamoDB's, recorded by dynalite and in
// aws-sdk issues; Lambda words them the same but for the missing token).
const (
	msgMissingToken       = "Request is missing Authentication Token"
	msgUnrecognizedClient = "The security token included in the request is invalid."
	msgInvalidSignature   = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	msgExpiredToken       = "The security token included in the request is expired"
)

// Error is a request that failed authentication: Code is the exception AWS
// answers (the constants above), Message its text. AccessKeyID is the key
// the request claimed, if any (for logs and metrics; never its secret).
type Error struct {
	Code        string
	Message     string
	AccessKeyID string
}

func (e *Error) Error() string { return "auth: " + e.Code + ": " + e.Message }

func authErr(code, msg, akid string) *Error {
	return &Error{Code: code, Message: msg, AccessKeyID: akid}
}
