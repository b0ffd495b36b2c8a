// Package audit owns the audit events: their schema, their names, and the Auditor that
// writes them as structured log records.
//
// A record is shaped like Backstage's auditor events (@backstage/backend-defaults'
// DefaultAuditorService with its default logger), so a SIEM rule written for
// Backstage matches ours: the message is "<plugin>.<eventId>" ("auth.sign-in"), and
// the record carries isAuditEvent: true, plugin, eventId, severityLevel, status
// (succeeded or failed), actor {actorId, ip, hostname, userAgent}, request {url,
// method} and meta. This server's own fields are always under meta: provider,
// outcome, reason. The severity picks the log level through
// backend.auditor.severityLogLevelMappings, with Backstage's defaults.
//
// What a record never holds: a token, an authorization code, a state, a cookie, a
// secret or a query string. Event has no field for any of them; request.url is the
// path only (Backstage logs originalUrl, whose query carries OAuth codes on the
// callback route), and Meta values are for refs, ids, counts and reasons.
//
// Every component that audits takes an Auditor (never a global); Nop discards.
package audit
