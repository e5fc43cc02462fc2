package partiql

import (
	"github.com/eddydb/eddy/attr"
	"github.com/eddydb/eddy/store/expr"
)

// Kind is the kind of a statement.
type Kind uint8

// The statement kinds DynamoDB's PartiQL subset has.
const (
	Select Kind = iota + 1
	Insert
	Update
	Delete
	Exists // EXISTS(SELECT ...): a condition check inside ExecuteTransaction
)

func (k Kind) String() string {
	return [...]string{"", "SELECT", "INSERT", "UPDATE", "DELETE", "EXISTS"}[k]
}

// Statement is one parsed statement.
//
//	SELECT * | path, ... FROM "Table"[."Index"] [WHERE cond [ORDER BY path [ASC|DESC]]]
//	INSERT INTO "Table" VALUE {'k': v, ...}
//	UPDATE "Table" SET path = v, ... REMOVE path, ... WHERE cond [RETURNING (ALL|MODIFIED) (OLD|NEW) *]
//	DELETE FROM "Table" WHERE cond [RETURNING ALL OLD *]
//	EXISTS(SELECT * FROM "Table" WHERE cond)
type Statement struct {
	Kind  Kind
	Table string
	Index string // SELECT, UPDATE and DELETE (refused when run); "" for the table

	Star       bool        // SELECT *
	Projection []expr.Path // SELECT paths, in order

	Where Expr // nil when absent

	OrderBy expr.Path // SELECT ... WHERE ... ORDER BY path [ASC|DESC]; nil when absent
	Desc    bool

	Value Expr // INSERT: the item (a *Tuple or a *Param)

	Sets    []Assign    // UPDATE SET, in order
	Removes []expr.Path // UPDATE REMOVE, in order

	// Returning is an UPDATE's or DELETE's RETURNING clause without the
	// "RETURNING" and the "*" ("ALL OLD", "MODIFIED NEW", ...); "" when
	// absent.
	Returning string

	// Params is the number of ? in the statement.
	Params int
}

// Assign is one SET action.
type Assign struct {
	Path  expr.Path
	Value Expr
}

// Expr is a node of an expression: *Path, *Lit, *Param, *Tuple, *List,
// *Bag, *Binary, *Not, *Between, *In, *Call, *Is.
type Expr interface{ node() }

// Path is a document path: a, a.b, a[0], a['b'].
type Path struct{ P expr.Path }

// Lit is a scalar literal; Missing is PartiQL's MISSING. Number literals
// keep their text until Value checks them, so errors can name their path.
type Lit struct {
	V       attr.Value
	Num     string // a number literal as written; V is then zero
	Missing bool
}

// Param is the N-th ? (0-based).
type Param struct{ N int }

// Tuple is a map literal {'k': v, ...}.
type Tuple struct {
	Keys []string
	Vals []Expr
}

// List is a list literal [v, ...].
type List struct{ Elems []Expr }

// Bag is a set literal <<v, ...>>.
type Bag struct{ Elems []Expr }

// Binary is a binary operator: = <> != < <= > >= AND OR + -.
type Binary struct {
	Op   string
	L, R Expr
}

// Not is NOT x.
type Not struct{ X Expr }

// Between is x [NOT] BETWEEN lo AND hi.
type Between struct {
	X, Lo, Hi Expr
	Neg       bool
}

// In is x [NOT] IN [v, ...] (or (v, ...)).
type In struct {
	X    Expr
	List []Expr
	Neg  bool
}

// Call is a function call; Name is lower case.
type Call struct {
	Name string
	Args []Expr
}

// Is is x IS [NOT] MISSING|NULL.
type Is struct {
	X    Expr
	What string // "MISSING" or "NULL"
	Neg  bool
}

func (*Path) node()    {}
func (*Lit) node()     {}
func (*Param) node()   {}
func (*Tuple) node()   {}
func (*List) node()    {}
func (*Bag) node()     {}
func (*Binary) node()  {}
func (*Not) node()     {}
func (*Between) node() {}
func (*In) node()      {}
func (*Call) node()    {}
func (*Is) node()      {}
