package celexpr

import (
	"context"
	"encoding/json"
	"testing"
)

// fuzzPrograms touch claims the way cookbook expressions do.
var fuzzPrograms = []struct {
	src  string
	want Want
}{
	{`claims.?groups.orValue([]).map(g, "group:default/" + string(g))`, WantStringList},
	{`{"metadata.annotations.example.com/id": claims.sub}`, WantStringMap},
	{`claims.?email.orValue(profile.email).split("@")[0].lowerAscii()`, WantString},
	{`has(claims.groups) && "admins" in claims.groups`, WantBool},
	{`claims`, WantStringMap},
	{`claims.exists(k, claims[k] == null || type(claims[k]) == list)`, WantBool},
}

// FuzzInputMapping feeds arbitrary claims JSON through NewActivation and the typed
// evaluations: errors are fine, panics are not.
func FuzzInputMapping(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"sub":"u","groups":["a","b"]}`, `{"groups":"admins"}`, `{"groups":[1,null,{"x":[]}]}`,
		`{"sub":12345,"email":"A@B.C"}`, `{"sub":1e308,"groups":[-0,1.5,9007199254740993]}`,
		`{"a":{"b":{"c":{"d":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["x"]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}}}}`,
		`{"\u0000":"\ud800","groups":["\u2028"]}`, `{"email":true,"groups":{}}`,
	} {
		f.Add([]byte(s), "alice@example.com")
	}
	progs := make([]*Program, len(fuzzPrograms))
	for i, fp := range fuzzPrograms {
		p, err := SignIn().Compile(fp.src, fp.want, DefaultLimits)
		if err != nil {
			f.Fatalf("%s: %v", fp.src, err)
		}
		progs[i] = p
	}
	f.Fuzz(func(t *testing.T, data []byte, email string) {
		var claims map[string]any
		if json.Unmarshal(data, &claims) != nil {
			return
		}
		act := NewActivation(Input{Provider: "p", Profile: Profile{Email: email}, Claims: claims})
		ctx := context.Background()
		for i, p := range progs {
			_ = evalAs(ctx, p, fuzzPrograms[i].want, act, 100)
		}
	})
}
