// Package backstageerr holds Backstage's error classes (InputError, NotFoundError, ...)
// as Go values. Every package returns these (wrapped with %w where useful); the HTTP
// layer maps them to status codes and Backstage's error JSON in one place
// (authbackend), so the names and messages the frontend sees match the Node backend.
package backstageerr
