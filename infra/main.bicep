// The retail lakehouse on Azure: ADLS Gen2, Event Hubs (Kafka endpoint), Key Vault, a premium Databricks
// workspace with its access connector, Log Analytics, and the role assignments between them. Deploy into
// an existing resource group, once per environment (parameters/dev.bicepparam, parameters/prod.bicepparam);
// infra/README.md has the commands.
targetScope = 'resourceGroup'

@description('Environment: selects names and sizes; conf/<environment>/lakehouse.yaml holds the matching settings.')
@allowed([
  'dev'
  'prod'
])
param environment string

@description('Azure region of every resource.')
param location string = resourceGroup().location

@description('Prefix of every resource name (lower-case letters and digits, at most 14 characters).')
@minLength(3)
@maxLength(14)
param namePrefix string = 'retaillakehouse'

@description('Storage replication.')
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
  'Standard_GRS'
  'Standard_GZRS'
])
param storageSku string = 'Standard_ZRS'

@description('Folder of the lakehouse container that holds the layers: the path of storage.root in conf/<environment>.')
param lakehouseFolder string = 'retail'

@description('Bronze files move to the cool tier this many days after their last change.')
param bronzeCoolAfterDays int = 30

@description('... and to the archive tier after this many.')
param bronzeArchiveAfterDays int = 180

@description('Event Hubs throughput units.')
param eventHubsCapacity int = 1

@description('Partitions of the inventory-changes hub.')
param inventoryPartitionCount int = 4

@description('Partitions of the pos-transactions hub.')
param posPartitionCount int = 4

@description('Days the hubs keep events.')
param eventRetentionDays int = 7

@description('Consumer groups on each hub, one per reader.')
param consumerGroups array = [
  'lakehouse-inventory-stream'
  'lakehouse-bronze'
]

@description('Object id of the Entra ID group of analysts who read gold; empty: none.')
param analystsGroupObjectId string = ''

@description('Days Log Analytics keeps logs.')
param logRetentionDays int = 90

@description('Days a deleted Key Vault secret stays recoverable.')
param softDeleteRetentionDays int = 90

var suffix = environment
var tags = {
  application: 'retail-lakehouse'
  environment: environment
}

module logs 'modules/log-analytics.bicep' = {
  name: 'log-analytics'
  params: {
    name: '${namePrefix}-${suffix}-logs'
    location: location
    retentionDays: logRetentionDays
    tags: tags
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  params: {
    name: '${namePrefix}${suffix}'
    location: location
    skuName: storageSku
    lakehouseFolder: lakehouseFolder
    bronzeCoolAfterDays: bronzeCoolAfterDays
    bronzeArchiveAfterDays: bronzeArchiveAfterDays
    logAnalyticsWorkspaceId: logs.outputs.id
    tags: tags
  }
}

module eventHubs 'modules/event-hubs.bicep' = {
  name: 'event-hubs'
  params: {
    name: '${namePrefix}-${suffix}'
    location: location
    capacity: eventHubsCapacity
    inventoryPartitionCount: inventoryPartitionCount
    posPartitionCount: posPartitionCount
    retentionDays: eventRetentionDays
    consumerGroups: consumerGroups
    logAnalyticsWorkspaceId: logs.outputs.id
    tags: tags
  }
}

module keyVault 'modules/key-vault.bicep' = {
  name: 'key-vault'
  params: {
    name: '${namePrefix}-${suffix}-kv'
    location: location
    softDeleteRetentionDays: softDeleteRetentionDays
    logAnalyticsWorkspaceId: logs.outputs.id
    tags: tags
  }
}

module databricks 'modules/databricks.bicep' = {
  name: 'databricks'
  params: {
    workspaceName: '${namePrefix}-${suffix}-dbw'
    accessConnectorName: '${namePrefix}-${suffix}-connector'
    location: location
    managedResourceGroupName: '${namePrefix}-${suffix}-dbw-managed'
    logAnalyticsWorkspaceId: logs.outputs.id
    tags: tags
  }
}

module access 'modules/role-assignments.bicep' = {
  name: 'role-assignments'
  params: {
    storageAccountName: storage.outputs.name
    keyVaultName: keyVault.outputs.name
    accessConnectorPrincipalId: databricks.outputs.accessConnectorPrincipalId
    analystsGroupObjectId: analystsGroupObjectId
    lakehouseFolder: lakehouseFolder
  }
}

output storageAccount string = storage.outputs.name
output lakehouseRoot string = 'abfss://lakehouse@${storage.outputs.name}.dfs.core.windows.net/${lakehouseFolder}'
output landingRoot string = 'abfss://landing@${storage.outputs.name}.dfs.core.windows.net/${lakehouseFolder}'
output kafkaBootstrapServers string = eventHubs.outputs.kafkaBootstrapServers
output keyVaultUri string = keyVault.outputs.uri
output databricksWorkspaceUrl string = databricks.outputs.workspaceUrl
output accessConnectorId string = databricks.outputs.accessConnectorId
