// Package expr implements Microsoft Entra ID's attribute-mapping expression
// language, so that an administrator can paste a mapping written for Entra
// into Ferry and get the same value out.
//
// An expression is a function call, an attribute reference, a string constant
// or a number:
//
//	Join(" ", [name.givenName], [name.familyName])
//	IIF([active]="True", ToLower([userName]), "disabled")
//	[emails[type eq "work"].value]
//	"United States"
//
// Function names are case-sensitive, as in Entra. Attribute references name
// SCIM attribute paths of Ferry's source directory; value filters nest inside
// the brackets. String constants escape a quotation mark or a backslash with a
// backslash. Numbers are decimal integers or VBA hexadecimal literals (&HF7).
// An empty argument (Replace([mail], "@contoso.com", , , "", , )) stands for
// a parameter left out.
//
// The life of an expression: Parse checks syntax; Check (or Compile, which is
// both) validates function names, arities, attribute names and constant
// arguments when an administrator saves a mapping; Eval computes a Value for
// one source object. An *Expression is immutable once parsed and safe for
// concurrent use.
//
// Where Entra's documentation describes a bug, Ferry does not copy it: Switch
// always evaluates its source (Entra's evaluates to null when another mapped
// attribute changed), and an IIF condition on a null attribute compares it as
// the empty string instead of failing. The functions that need Entra's
// directory or the target's (AppRoleAssignmentsComplex,
// AssertiveAppRoleAssignmentsComplex, SingleAppRoleAssignment,
// SelectUniqueValue) are reported as unsupported by Check.
package expr
