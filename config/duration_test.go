package config

import (
	"strings"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	day := 24 * time.Hour
	tests := []struct {
		in      any
		want    time.Duration
		wantErr string
	}{
		{"1h", time.Hour, ""},
		{"90m", 90 * time.Minute, ""},
		{"1.5 hours", 90 * time.Minute, ""},
		{"2 days", 2 * day, ""},
		{"500ms", 500 * time.Millisecond, ""},
		{"1w", 7 * day, ""},
		{"1y", time.Duration(365.25 * float64(day)), ""},
		{"10 Minutes", 10 * time.Minute, ""},
		{"PT8H", 8 * time.Hour, ""},
		{"P1D", day, ""},
		{"P1Y", 365 * day, ""},
		{"P1M", 30 * day, ""},
		{"PT1H30M", 90 * time.Minute, ""},
		{map[string]any{"hours": 8, "minutes": 30}, 8*time.Hour + 30*time.Minute, ""},
		{map[string]any{"days": 1.5}, 36 * time.Hour, ""},
		{map[string]any{"milliseconds": 250}, 250 * time.Millisecond, ""},
		{map[string]any{"years": 1, "months": 1}, 395 * day, ""},
		{"banana", 0, `invalid duration "banana"`},
		{"3600", 0, `invalid duration "3600"`},
		{"-1h", 0, `invalid duration "-1h"`},
		{"P", 0, "invalid duration"},
		{"PT", 0, "invalid duration"},
		{"P1DT", 0, "invalid duration"},
		{"99999999999999 years", 0, "too long"},
		{3600, 0, "got a number"},
		{1.5, 0, "got a number"},
		{true, 0, "got a boolean"},
		{[]any{"1h"}, 0, "got a list"},
		{map[string]any{}, 0, "at least one"},
		{map[string]any{"hours": nil}, 0, "at least one"},
		{map[string]any{"fortnights": 1}, 0, `unknown unit "fortnights"`},
		{map[string]any{"hours": -1}, 0, "non-negative"},
		{map[string]any{"hours": "1"}, 0, "non-negative number"},
		{map[string]any{"years": 1e12}, 0, "too long"},
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseDuration(%#v) error = %v, want containing %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseDuration(%#v) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestClampTokenExpiration(t *testing.T) {
	tests := []struct {
		yaml string
		want time.Duration
	}{
		{"", time.Hour},
		{"auth:\n  backstageTokenExpiration: 5m\n", 10 * time.Minute},
		{"auth:\n  backstageTokenExpiration: 10m\n", 10 * time.Minute},
		{"auth:\n  backstageTokenExpiration: {minutes: 30}\n", 30 * time.Minute},
		{"auth:\n  backstageTokenExpiration: 2h\n", 2 * time.Hour},
		{"auth:\n  backstageTokenExpiration: 1500ms\n", 10 * time.Minute},
		{"auth:\n  backstageTokenExpiration: 1200500ms\n", 1200 * time.Second}, // floored to whole seconds
		{"auth:\n  backstageTokenExpiration: P2D\n", 24 * time.Hour},
		{"auth:\n  backstageTokenExpiration: 24h\n", 24 * time.Hour},
	}
	for _, tt := range tests {
		dir := writeTree(t, map[string]string{"app-config.yaml": minimal + tt.yaml})
		c := mustLoad(t, dir, env{}, nil)
		if got := c.Auth.BackstageTokenExpiration; got != tt.want {
			t.Errorf("%q: expiration = %v, want %v", tt.yaml, got, tt.want)
		}
	}
}
