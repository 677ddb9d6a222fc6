using '../main.bicep'

// prod: zone-redundant storage, more partitions and throughput. Names match conf/prod/lakehouse.yaml.
// Set analystsGroupObjectId to the object id of the analysts' Entra ID group.
param environment = 'prod'
param namePrefix = 'retaillakehouse'
param storageSku = 'Standard_GZRS'
param eventHubsCapacity = 4
param inventoryPartitionCount = 16
param posPartitionCount = 16
param eventRetentionDays = 7
param logRetentionDays = 365
param softDeleteRetentionDays = 90
param analystsGroupObjectId = '00000000-0000-0000-0000-000000000000'
