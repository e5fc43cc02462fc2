// Package auth authenticates requests the way AWS does: AWS Signature
// Version 4, in the Authorization header or in a presigned URL's query
// string, verified against access keys from an AWS shared-credentials file.
//
// A Verifier recomputes the canonical request and the signature of an
// *http.Request (the SigV4 rules of the AWS IAM user guide, "Create a signed
// AWS API request", as aws-sdk-go-v2's signer and botocore apply them) and
// compares it in constant time. What it hands on is an Identity, put in the
// request's context (WithIdentity, FromContext) for the protocol packages and
// for authorization.
//
// Errors are *Error values naming the exception AWS answers
// (MissingAuthenticationTokenException, IncompleteSignatureException,
// UnrecognizedClientException, InvalidSignatureException,
// ExpiredTokenException) with its message; each protocol renders them in
// its own shape and status.
//
// # Caveats
//
//   - The streaming (aws-chunked) payload variants are refused: the SDKs use
//     them only for S3 uploads, which eddy does not serve.
//   - The credential scope's service is not checked against the surface:
//     eddy serves DynamoDB, Streams, Lambda and CloudWatch Logs on one port,
//     and the scope, whatever it names, is part of what is signed.
package auth
