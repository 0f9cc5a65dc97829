package validate

// The public documents the checks cite besides RFC 7643 and RFC 7644. A
// check's Source names one of them, often with the anchor of the section,
// so that a reader of a report can look the rule up.
const (
	// msSCIM is Microsoft's tutorial for SCIM endpoints: the requests Entra
	// ID sends, the answers it expects, and what Test Connection does.
	msSCIM = "https://learn.microsoft.com/entra/identity/app-provisioning/use-scim-to-provision-users-and-groups"
	// msEntraImpl is the tutorial's section on Entra ID's SCIM profile:
	// its requirements and general guidelines.
	msEntraImpl = msSCIM + "#understand-the-azure-ad-scim-implementation"
	// msFlags shows the requests Entra ID sends by default and with the
	// aadOptscim062020 flag in the Tenant URL.
	msFlags = "https://learn.microsoft.com/entra/identity/app-provisioning/application-provisioning-config-problem-scim-compatibility#flags-to-alter-the-scim-behavior"
	// msQuarantine lists why Entra ID quarantines a job, a 404 answer to a
	// query among them.
	msQuarantine = "https://learn.microsoft.com/entra/identity/app-provisioning/application-provisioning-quarantine-status#why-is-my-application-in-quarantine"
	// msMappings is Entra ID's guide to attribute mappings: matching,
	// roles, and the manager's form.
	msMappings = "https://learn.microsoft.com/entra/identity/app-provisioning/customize-application-attributes"
	// msTests is Microsoft's SCIM reference test collection (Postman).
	msTests = "https://github.com/AzureAD/SCIMReferenceCode/blob/master/PostmanCollection.json"
	// msGallery is the suite Microsoft runs before it lists an app in the
	// Entra gallery.
	msGallery = "https://github.com/AzureAD/SCIMReferenceCode/blob/master/Microsoft.SCIM.LogicAppValidationTemplate/StandardLogicApp/SCIM-Validation-Test-Overview.md"
	// oktaSCIM is Okta's SCIM 2.0 reference: the requests Okta's client
	// sends.
	oktaSCIM = "https://developer.okta.com/docs/api/openapi/okta-scim/guides/scim-20"
	// oktaSpec is Okta's SCIM 2.0 SPEC test, a Runscope suite.
	oktaSpec = "https://developer.okta.com/standards/SCIM/SCIMFiles/Okta-SCIM-20-SPEC-Test.json"
)
