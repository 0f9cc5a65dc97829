package scim

// Message and core schema URNs from RFC 7643 and RFC 7644.
const (
	ListResponseURN  = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	ErrorURN         = "urn:ietf:params:scim:api:messages:2.0:Error"
	PatchOpURN       = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	SearchRequestURN = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
	BulkRequestURN   = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
	BulkResponseURN  = "urn:ietf:params:scim:api:messages:2.0:BulkResponse"

	UserURN                  = "urn:ietf:params:scim:schemas:core:2.0:User"
	GroupURN                 = "urn:ietf:params:scim:schemas:core:2.0:Group"
	EnterpriseUserURN        = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	ServiceProviderConfigURN = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
	ResourceTypeURN          = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
	SchemaURN                = "urn:ietf:params:scim:schemas:core:2.0:Schema"
)
