package dialer

import (
	"go/ast"
	"go/parser"
	"go/token"
	"reflect"
	"regexp"
	"testing"
)

// TestTCPSnapshotDocListsFields keeps TCPSnapshot's doc comment, which is
// all go doc shows of an alias to an internal type, in step with its fields.
func TestTCPSnapshotDocListsFields(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "lost.go", nil, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	var doc string
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.TYPE {
			continue
		}
		if s := g.Specs[0].(*ast.TypeSpec); s.Name.Name == "TCPSnapshot" {
			doc = g.Doc.Text()
		}
	}
	if doc == "" {
		t.Fatal("no doc comment on TCPSnapshot in lost.go")
	}
	typ := reflect.TypeOf(TCPSnapshot{})
	for i := range typ.NumField() {
		if name := typ.Field(i).Name; !regexp.MustCompile(`\b` + name + `\b`).MatchString(doc) {
			t.Errorf("TCPSnapshot's doc does not list the field %s", name)
		}
	}
}
