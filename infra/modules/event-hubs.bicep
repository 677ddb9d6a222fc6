// Event Hubs: the inventory stream and the POS feed, read by Spark through the namespace's Kafka endpoint
// (<namespace>.servicebus.windows.net:9093; Standard tier and above have it).
param name string
param location string

@description('Throughput units (each 1 MB/s or 1,000 events/s in).')
@minValue(1)
@maxValue(40)
param capacity int

@description('Partitions of inventory-changes: the stream reads at most this many in parallel.')
@minValue(1)
@maxValue(32)
param inventoryPartitionCount int

@description('Partitions of pos-transactions.')
@minValue(1)
@maxValue(32)
param posPartitionCount int

@description('Days a hub keeps its events (Standard: 1 to 7).')
@minValue(1)
@maxValue(7)
param retentionDays int

@description('Consumer groups created on every hub: one per reader, so each keeps its own offsets.')
param consumerGroups array

param logAnalyticsWorkspaceId string
param tags object

var hubs = [
  {
    name: 'inventory-changes'
    partitionCount: inventoryPartitionCount
  }
  {
    name: 'pos-transactions'
    partitionCount: posPartitionCount
  }
]

resource namespace 'Microsoft.EventHub/namespaces@2024-01-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: 'Standard'
    tier: 'Standard'
    capacity: capacity
  }
  properties: {
    kafkaEnabled: true
    minimumTlsVersion: '1.2'
    // Readers and writers authenticate with Entra ID or a connection string kept in Key Vault.
    disableLocalAuth: false
    publicNetworkAccess: 'Enabled'
    zoneRedundant: true
  }
}

resource eventHubs 'Microsoft.EventHub/namespaces/eventhubs@2024-01-01' = [for hub in hubs: {
  parent: namespace
  name: hub.name
  properties: {
    partitionCount: hub.partitionCount
    messageRetentionInDays: retentionDays
  }
}]

// One consumer group per (hub, reader): hub index i of hubs, reader j of consumerGroups.
resource readers 'Microsoft.EventHub/namespaces/eventhubs/consumergroups@2024-01-01' = [for pair in range(0, length(hubs) * length(consumerGroups)): {
  parent: eventHubs[pair / length(consumerGroups)]
  name: consumerGroups[pair % length(consumerGroups)]
  properties: {}
}]

// Listen only: the lakehouse's readers. Writers (stores, IoT Hub routes) get their own send rules.
resource listenRule 'Microsoft.EventHub/namespaces/authorizationRules@2024-01-01' = {
  parent: namespace
  name: 'lakehouse-listen'
  properties: {
    rights: [
      'Listen'
    ]
  }
}

resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: namespace
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [
      {
        categoryGroup: 'allLogs'
        enabled: true
      }
    ]
    metrics: [
      {
        category: 'AllMetrics'
        enabled: true
      }
    ]
  }
}

output id string = namespace.id
output kafkaBootstrapServers string = '${namespace.name}.servicebus.windows.net:9093'
output hubNames array = [for (hub, i) in hubs: eventHubs[i].name]
