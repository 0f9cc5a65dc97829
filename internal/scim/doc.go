// Package scim holds the vocabulary shared by every part of Ferry's SCIM 2.0
// protocol core: the typed protocol error and the message URNs.
//
// The protocol core is pure and I/O-free. Its subpackages are:
//
//   - schema: attribute definitions and the built-in RFC 7643 schemas;
//   - filter: the RFC 7644 filter and attribute-path grammar, its AST and an evaluator;
//   - resource: the JSON document model, validation and response projection;
//   - patch: RFC 7644 PATCH requests and their atomic application.
//
// Both the /scim/v2 server and the provisioning engine use these packages,
// so a path or filter means the same thing on both sides of Ferry.
package scim
