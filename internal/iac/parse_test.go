package iac_test

import (
	"testing"

	"github.com/serverless-oidc/op/internal/iac"
)

// TestParseTemplateTags: the short-form tags become the long form.
func TestParseTemplateTags(t *testing.T) {
	tpl, err := iac.ParseTemplate([]byte(`
A: !Ref X
B: !GetAtt R.Arn
C: !Sub "${AWS::StackName}-x"
D: !If [Cond, !Split [",", !Ref P], [1, 2]]
E: !Condition Other
F: !Join
  - ""
  - [a, !Ref B]
G: |
  text
`))
	if err != nil {
		t.Fatal(err)
	}
	want := iac.Template{
		"A": ref("X"),
		"B": getAtt("R", "Arn"),
		"C": sub("${AWS::StackName}-x"),
		"D": map[string]any{"Fn::If": []any{"Cond", map[string]any{"Fn::Split": []any{",", ref("P")}}, []any{uint64(1), uint64(2)}}},
		"E": map[string]any{"Condition": "Other"},
		"F": map[string]any{"Fn::Join": []any{"", []any{"a", ref("B")}}},
		"G": "text\n",
	}
	wantEqual(t, "parsed", tpl, want)
	if _, err := iac.ParseTemplate([]byte("A: !Bogus x\n")); err == nil {
		t.Error("unknown tag accepted")
	}
	if _, err := iac.ParseTemplate([]byte("A: 1\nA: 2\n")); err == nil {
		t.Error("duplicate key accepted")
	}
}
