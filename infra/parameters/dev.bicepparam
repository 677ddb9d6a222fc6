using '../main.bicep'

// dev: small, locally redundant, short retention. Names match conf/dev/lakehouse.yaml.
param environment = 'dev'
param namePrefix = 'retaillakehouse'
param storageSku = 'Standard_LRS'
param eventHubsCapacity = 1
param inventoryPartitionCount = 2
param posPartitionCount = 2
param eventRetentionDays = 1
param logRetentionDays = 30
param softDeleteRetentionDays = 7
param analystsGroupObjectId = ''
