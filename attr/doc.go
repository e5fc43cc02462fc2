// Package attr is eddy's model of DynamoDB attribute values: the ten types
// (S, N, B, BOOL, NULL, M, L, SS, NS, BS), their validation, the DynamoDB JSON
// wire form, the compact binary form stored in Pebble, the order-preserving key
// form, and DynamoDB's item-size arithmetic.
//
// # Basics
//
// A Value is an immutable tagged union; construct it with the S, N, B, Bool,
// Null, M, L, SS, NS, BS constructors or by decoding JSON. An Item is a
// map from attribute name to Value. Numbers are held in canonical decimal
// text (see Number) and compared exactly with a 38-digit decimal context;
// float64 is never involved.
//
// # Invariants
//
//   - A decoded Value is valid: sets are non-empty with unique members, numbers
//     are within DynamoDB's range and precision, NULL is true.
//   - Number text is canonical: no exponent, no leading or trailing zeros, no
//     "-0". Two numbers are equal exactly when their texts are equal.
//   - Set members keep the order the client sent; equality ignores order.
//
// # Caveats
//
// Values share backing arrays with whoever built them; treat them as read-only.
package attr
