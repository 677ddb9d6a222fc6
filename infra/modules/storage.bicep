// ADLS Gen2: the landing zone (raw feed files) and the lakehouse (bronze, silver, gold, _ops) as two
// containers of one hierarchical-namespace account. Bronze ages to cool and archive tiers.
@description('Storage account name: 3-24 lower-case letters and digits, globally unique.')
@minLength(3)
@maxLength(24)
param name string

param location string

@description('Replication: zone-redundant in prod, locally redundant is enough for dev.')
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
  'Standard_GRS'
  'Standard_GZRS'
])
param skuName string

@description('Folder under the lakehouse container that holds the layers (storage.root in conf/<env>).')
param lakehouseFolder string

@description('Days after their last change before bronze files move to the cool tier.')
param bronzeCoolAfterDays int

@description('Days after their last change before bronze files move to the archive tier.')
param bronzeArchiveAfterDays int

param logAnalyticsWorkspaceId string
param tags object

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  // checkov:skip=CKV_AZURE_206: replication is the skuName parameter: Standard_GZRS in prod, Standard_LRS in dev (parameters/*.bicepparam; tests/unit/infra asserts both).
  name: name
  location: location
  tags: tags
  sku: {
    name: skuName
  }
  kind: 'StorageV2'
  properties: {
    isHnsEnabled: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    allowBlobPublicAccess: false
    // Entra ID (managed identity, az login) only: no account keys or SAS signed with them.
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    accessTier: 'Hot'
    encryption: {
      keySource: 'Microsoft.Storage'
      requireInfrastructureEncryption: true
      services: {
        blob: {
          enabled: true
          keyType: 'Account'
        }
        file: {
          enabled: true
          keyType: 'Account'
        }
      }
    }
    networkAcls: {
      // Databricks reaches the account through its access connector (a trusted Azure service); no
      // public network access otherwise. Add virtual network rules or private endpoints per site.
      bypass: 'AzureServices'
      defaultAction: 'Deny'
      resourceAccessRules: []
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: account
  name: 'default'
  properties: {
    deleteRetentionPolicy: {
      enabled: true
      days: 7
    }
    containerDeleteRetentionPolicy: {
      enabled: true
      days: 7
    }
  }
}

resource landing 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: 'landing'
  properties: {
    publicAccess: 'None'
  }
}

resource lakehouse 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: 'lakehouse'
  properties: {
    publicAccess: 'None'
  }
}

// Bronze keeps every raw row for replays and audits, but is read rarely after its first month.
resource lifecycle 'Microsoft.Storage/storageAccounts/managementPolicies@2023-05-01' = {
  parent: account
  name: 'default'
  properties: {
    policy: {
      rules: [
        {
          name: 'bronze-to-cool-and-archive'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: {
              blobTypes: [
                'blockBlob'
              ]
              prefixMatch: [
                'lakehouse/${lakehouseFolder}/bronze/'
              ]
            }
            actions: {
              baseBlob: {
                tierToCool: {
                  daysAfterModificationGreaterThan: bronzeCoolAfterDays
                }
                tierToArchive: {
                  daysAfterModificationGreaterThan: bronzeArchiveAfterDays
                }
              }
            }
          }
        }
      ]
    }
  }
}

resource accountDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: account
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    metrics: [
      {
        category: 'Transaction'
        enabled: true
      }
    ]
  }
}

// Reads, writes and deletes are logged on the blob service (the account itself has metrics only).
resource blobDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: blobService
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [
      {
        category: 'StorageRead'
        enabled: true
      }
      {
        category: 'StorageWrite'
        enabled: true
      }
      {
        category: 'StorageDelete'
        enabled: true
      }
    ]
    metrics: [
      {
        category: 'Transaction'
        enabled: true
      }
    ]
  }
}

output id string = account.id
output name string = account.name
output dfsEndpoint string = account.properties.primaryEndpoints.dfs
