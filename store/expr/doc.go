// Package expr is DynamoDB's expression language: condition and filter
// expressions, update expressions, projection expressions and key condition
// expressions, parsed once into a tree and then evaluated against items.
//
// # Use
//
// One Compiler serves one request. It resolves #names and :values against the
// request's ExpressionAttributeNames and ExpressionAttributeValues, and
// tracks which were used:
//
//	c := expr.NewCompiler(req.Names, req.Values)
//	cond, err := c.Condition(req.ConditionExpression) // *Condition
//	upd, err := c.Update(req.UpdateExpression)        // *Update
//	err = c.CheckUnused()                             // after all expressions
//	...
//	if ok, _ := cond.Eval(old); !ok { ... ConditionalCheckFailed ... }
//	if upd.Touches(hashKey) { ... "Cannot update attribute pk. This attribute is part of the key" ... }
//	newItem, err := upd.Apply(old)
//	updatedNew := expr.ProjectPaths(newItem, upd.UpdatedPaths())
//
// Every error is a *ddberr.Error ValidationException whose message is
// DynamoDB's, e.g. `Invalid ConditionExpression: Syntax error; token: "x",
// near: "a x b"`.
//
// # Grammar
//
//	condition  := or
//	or         := and { OR and }
//	and        := not { AND not }
//	not        := NOT primary | primary
//	primary    := '(' or ')' | operand cmp operand
//	            | operand BETWEEN operand AND operand
//	            | operand IN '(' operand { ',' operand } ')'      (1..100 values)
//	            | function                                      (not size)
//	cmp        := '=' | '<>' | '<' | '<=' | '>' | '>='
//	operand    := path | :value | size(path) | '(' operand ')'
//	function   := attribute_exists(path) | attribute_not_exists(path)
//	            | attribute_type(path, :t) | begins_with(a, b) | contains(a, b)
//	update     := clause { clause }          (each of SET REMOVE ADD DELETE at most once)
//	clause     := SET path '=' setval { ',' ... } | REMOVE path { ',' path }
//	            | ADD path :value { ',' ... }  | DELETE path :value { ',' ... }
//	setval     := ['('] val [('+'|'-') val] [')']
//	val        := path | :value | if_not_exists(path, val) | list_append(val, val) | '(' val ')'
//	projection := path { ',' path }
//	path       := name { '.' name | '[' digits ']' }   name := identifier | #name
//
// Keywords are case-insensitive. Bare identifiers start with a letter and
// may not be one of DynamoDB's 573 reserved words (reserved.go). Paths nest
// at most 32 levels; an expression is at most 4 KB.
//
// # Checks
//
// Parsing is backtracking recursive descent over a token slice; a syntax
// error names the farthest token any alternative reached, with the text
// from the token before it to the token after it, as DynamoDB does. After a
// successful parse a checker resolves names and values and collects the
// semantic errors by class; when an expression has several, the class order
// of DynamoDB's grammar decides which one is reported (see the
// Compiler methods). Overlapping and conflicting paths are rejected in
// updates and projections, not in conditions.
//
// # Evaluation
//
// Conditions never fail at evaluation time. An absent attribute (the zero
// attr.Value) makes =, <, <=, >, >=, BETWEEN, IN and the functions false,
// except attribute_not_exists; values of different types compare unequal
// and unordered; <> is the negation of = unless both sides are absent.
// size() counts UTF-16 code units of an S (as DynamoDB does), bytes of a B,
// members of a set and elements of an L or M.
//
// Updates apply all actions as one simultaneous edit of the old item: every
// SET right-hand side reads the old item, list indexes refer to the old
// list, SET or ADD past the end of a list appends (in index order), REMOVE
// of a missing attribute or element does nothing, DELETE of the last set
// members removes the attribute. Numbers use attr.Number (38 digits, exact);
// its overflow and precision errors surface with attr's messages.
//
// # Invariants
//
//   - Compiled expressions are immutable and safe for concurrent use; the
//     Compiler is not.
//   - Apply never modifies its input; the result shares unchanged values.
//   - Every error any function here returns is a ValidationException.
//
// # Caveats
//
// The texts of a few errors could not be checked against DynamoDB itself and
// follow other emulators: path nesting ("The document path has too many
// nesting levels"), key-condition shape errors ("Unsupported operator on
// KeyConditionExpression", "up to two key conditions"), operand types of <,
// <=, >, >= and BETWEEN. size() of an S counting bytes rather than
// characters is likewise unverified.
package expr
