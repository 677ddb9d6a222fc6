// A premium Databricks workspace (Unity Catalog, diagnostic logs, secret scopes backed by Key Vault) and
// the access connector whose managed identity Unity Catalog uses to reach the storage account.
param workspaceName string
param accessConnectorName string
param location string

@description('Resource group Databricks creates and manages for the workspace\'s own resources.')
param managedResourceGroupName string

param logAnalyticsWorkspaceId string
param tags object

resource accessConnector 'Microsoft.Databricks/accessConnectors@2024-05-01' = {
  name: accessConnectorName
  location: location
  tags: tags
  identity: {
    type: 'SystemAssigned'
  }
  properties: {}
}

resource workspace 'Microsoft.Databricks/workspaces@2024-05-01' = {
  // checkov:skip=CKV2_AZURE_48: DBFS root keeps no lakehouse data (tables live in ADLS, encrypted at rest with infrastructure encryption); a customer-managed key needs a key vault key that exists before the workspace, a per-tenant decision.
  // checkov:skip=CKV_AZURE_158: private link needs VNet injection into the retailer's own subnets, which this template cannot know; clusters have no public IPs (secure cluster connectivity).
  name: workspaceName
  location: location
  tags: tags
  sku: {
    name: 'premium'
  }
  properties: {
    managedResourceGroupId: subscriptionResourceId('Microsoft.Resources/resourceGroups', managedResourceGroupName)
    publicNetworkAccess: 'Enabled'
    requiredNsgRules: 'AllRules'
    parameters: {
      enableNoPublicIp: {
        value: true
      }
    }
    accessConnector: {
      id: accessConnector.id
      identityType: 'SystemAssigned'
    }
    defaultStorageFirewall: 'Enabled'
  }
}

resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: workspace
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [
      {
        categoryGroup: 'allLogs'
        enabled: true
      }
    ]
  }
}

output workspaceId string = workspace.id
output workspaceUrl string = workspace.properties.workspaceUrl
output accessConnectorId string = accessConnector.id
output accessConnectorPrincipalId string = accessConnector.identity.principalId
