// Who may do what: the Databricks access connector reads and writes the lakehouse and reads Key Vault
// secrets; the analysts group reads the gold folder of the lakehouse container and nothing else.
param storageAccountName string
param keyVaultName string

@description('Principal (object) id of the Databricks access connector\'s managed identity.')
param accessConnectorPrincipalId string

@description('Object id of the Entra ID group of analysts; empty: no analyst role assignment.')
param analystsGroupObjectId string

@description('Folder under the lakehouse container that holds the layers (storage.root in conf/<env>).')
param lakehouseFolder string

// Built-in role definition ids (the same in every tenant).
var storageBlobDataContributor = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
var storageBlobDataReader = '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1'
var keyVaultSecretsUser = '4633458b-17de-408a-b874-0445c86b69e6'

var goldPrefix = '${lakehouseFolder}/gold/'

// Reading a blob is allowed only in container 'lakehouse' under the gold folder; listing only with a
// prefix under it (Azure ABAC, condition version 2.0; Microsoft's "read blobs in named containers with a
// path" example).
var goldOnlyCondition = '((!(ActionMatches{\'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read\'} AND NOT SubOperationMatches{\'Blob.List\'})) OR (@Resource[Microsoft.Storage/storageAccounts/blobServices/containers:name] StringEquals \'lakehouse\' AND @Resource[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:path] StringLike \'${goldPrefix}*\')) AND ((!(ActionMatches{\'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read\'} AND SubOperationMatches{\'Blob.List\'})) OR (@Resource[Microsoft.Storage/storageAccounts/blobServices/containers:name] StringEquals \'lakehouse\' AND @Request[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:prefix] StringStartsWith \'${goldPrefix}\'))'

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' existing = {
  parent: account
  name: 'default'
}

resource lakehouseContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' existing = {
  parent: blobService
  name: 'lakehouse'
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: keyVaultName
}

resource connectorOnStorage 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(account.id, accessConnectorPrincipalId, storageBlobDataContributor)
  scope: account
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataContributor)
    principalId: accessConnectorPrincipalId
    principalType: 'ServicePrincipal'
    description: 'Databricks access connector: read and write landing and lakehouse'
  }
}

resource connectorOnSecrets 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, accessConnectorPrincipalId, keyVaultSecretsUser)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsUser)
    principalId: accessConnectorPrincipalId
    principalType: 'ServicePrincipal'
    description: 'Databricks access connector: read secrets'
  }
}

resource analystsOnGold 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(analystsGroupObjectId)) {
  name: guid(lakehouseContainer.id, analystsGroupObjectId, storageBlobDataReader)
  scope: lakehouseContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataReader)
    principalId: analystsGroupObjectId
    principalType: 'Group'
    description: 'Analysts: read gold only'
    conditionVersion: '2.0'
    condition: goldOnlyCondition
  }
}
