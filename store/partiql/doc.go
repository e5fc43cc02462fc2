// Package partiql is DynamoDB's PartiQL subset: a lexer and a parser into a
// Statement (SELECT, INSERT, UPDATE, DELETE, and EXISTS inside
// transactions), and the translation of its WHERE clause, SET/REMOVE
// actions and literals onto package expr, so PartiQL conditions evaluate
// with the same evaluator as condition and filter expressions.
//
// # Use
//
//	st, err := partiql.Parse(text)            // syntax errors: ValidationException
//	g, err := partiql.NewGen(st, params)       // binds ? in order
//	cond, err := g.Condition(st.Where)         // *expr.Condition
//	vals, ok, err := g.Equality(st.Where, "pk", true) // pk = v / pk IN [...]
//
// The api package decides what a statement becomes (Query, Scan, a
// conditional Put, Update or Delete) from the table's key schema.
//
// # Caveats
//
// Syntax error details follow DynamoDB's recorded texts where known
// ("Unexpected token after expression", "Unexpected term", "Unexpected
// keyword", "Missing right-hand side expression of infix operator",
// "Expected data manipulation"); others are close approximations. Errors
// the expression compiler reports about the generated expression name
// ConditionExpression or FilterExpression, which DynamoDB would not.
package partiql
