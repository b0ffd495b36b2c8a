package jsrules

import (
	"strings"
	"testing"

	"github.com/spectrocloud-labs/backstage-auth-go/internal/backstageerr"
)

func TestCanonicalEntityRef(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{"user:default/alice", "user:default/alice", ""},
		{"User:Default/Alice", "user:default/alice", ""},
		{"user:alice", "user:default/alice", ""},
		{"Group:Team-A", "group:default/team-a", ""},
		{"user:ns/a:b", "user:ns/a:b", ""},
		{"user:ns/a/b", "user:ns/a/b", ""},
		{"ns/user:x", "", "missing or empty kind"},
		{"alice", "", "missing or empty kind"},
		{":x", "", "not on the form"},
		{"user:/x", "", "not on the form"},
		{"user:x/", "", "not on the form"},
		{"user:default/İstanbul", "user:default/i\u0307stanbul", ""},
		{"user:default/ΟΔΟΣ", "user:default/οδος", ""},
	} {
		got, err := CanonicalEntityRef(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: err %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q: got %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestParseEntityRef(t *testing.T) {
	tests := []struct {
		ref, defKind, defNS string
		want                EntityRef
		canonical           string
		errName, errMsg     string
	}{
		{ref: "user:default/alice", want: EntityRef{"user", "default", "alice"}, canonical: "user:default/alice"},
		{ref: "User:Default/Jane.Doe", want: EntityRef{"User", "Default", "Jane.Doe"}, canonical: "user:default/jane.doe"},
		{ref: "alice", defKind: "User", want: EntityRef{"User", "default", "alice"}, canonical: "user:default/alice"},
		{ref: "team-a", defKind: "Group", defNS: "eng", want: EntityRef{"Group", "eng", "team-a"}, canonical: "group:eng/team-a"},
		{ref: "ops/team-b", defKind: "Group", defNS: "eng", want: EntityRef{"Group", "ops", "team-b"}, canonical: "group:ops/team-b"},
		{ref: "group:team-c", defKind: "User", defNS: "eng", want: EntityRef{"group", "eng", "team-c"}, canonical: "group:eng/team-c"},
		// A "/" before the ":" makes the colon part of the name.
		{ref: "ns/a:b", defKind: "User", want: EntityRef{"User", "ns", "a:b"}, canonical: "user:ns/a:b"},
		{ref: "", errName: "Error", errMsg: "Entity reference must not be empty"},
		{ref: "alice", errName: "Error", errMsg: `Entity reference "alice" had missing or empty kind (e.g. did not start with "component:" or similar)`},
		{ref: ":default/alice", errName: "TypeError", errMsg: `Entity reference ":default/alice" was not on the form [<kind>:][<namespace>/]<name>`},
		{ref: "user:/alice", errName: "TypeError", errMsg: `Entity reference "user:/alice" was not on the form [<kind>:][<namespace>/]<name>`},
		{ref: "user:default/", errName: "TypeError", errMsg: `Entity reference "user:default/" was not on the form [<kind>:][<namespace>/]<name>`},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			got, err := ParseEntityRef(tt.ref, tt.defKind, tt.defNS)
			if tt.errMsg != "" {
				if err == nil {
					t.Fatalf("want error %q, got %+v", tt.errMsg, got)
				}
				if backstageerr.NameOf(err) != tt.errName || err.Error() != tt.errMsg {
					t.Fatalf("error = %s %q, want %s %q", backstageerr.NameOf(err), err, tt.errName, tt.errMsg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			if got.String() != tt.canonical {
				t.Fatalf("String() = %q, want %q", got.String(), tt.canonical)
			}
		})
	}
}

// TestEntityRefVectors: ParseEntityRef and String against catalog-model's
// parseEntityRef and stringifyEntityRef, including the error class and message.
func TestEntityRefVectors(t *testing.T) {
	var v struct {
		Cases []struct {
			Ref              string  `json:"ref"`
			DefaultKind      *string `json:"defaultKind"`
			DefaultNamespace *string `json:"defaultNamespace"`
			Kind             string  `json:"kind"`
			Namespace        string  `json:"namespace"`
			Name             string  `json:"name"`
			Canonical        string  `json:"canonical"`
			Error            *struct {
				Class   string `json:"class"`
				Name    string `json:"name"`
				Message string `json:"message"`
			} `json:"error"`
		} `json:"cases"`
	}
	readVectors(t, "entityref.json", &v)
	for _, c := range v.Cases {
		var dk, dn string
		if c.DefaultKind != nil {
			dk = *c.DefaultKind
		}
		if c.DefaultNamespace != nil {
			dn = *c.DefaultNamespace
		}
		got, err := ParseEntityRef(c.Ref, dk, dn)
		if c.Error != nil {
			if err == nil {
				t.Errorf("%q (%q, %q): got %+v, Node throws %s %q", c.Ref, dk, dn, got, c.Error.Class, c.Error.Message)
				continue
			}
			if backstageerr.NameOf(err) != c.Error.Name || err.Error() != c.Error.Message {
				t.Errorf("%q: error %s %q, Node %s %q", c.Ref, backstageerr.NameOf(err), err.Error(), c.Error.Name, c.Error.Message)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q (%q, %q): %v, Node parses it", c.Ref, dk, dn, err)
			continue
		}
		if got != (EntityRef{c.Kind, c.Namespace, c.Name}) || got.String() != c.Canonical {
			t.Errorf("%q: %+v %q, Node %q %q %q %q", c.Ref, got, got.String(), c.Kind, c.Namespace, c.Name, c.Canonical)
		}
	}
}
