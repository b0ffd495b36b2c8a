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
