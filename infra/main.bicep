// huntwatch on Azure Functions Flex Consumption.
//
// One resource group holds everything huntwatch owns: the function app and its plan, one
// user-assigned managed identity used for every connection, a storage account (host storage, the
// deployment container and the dedup table; shared keys off), Application Insights on its own small
// Log Analytics workspace, and a Key Vault holding the Slack credential. The Sentinel workspace stays
// where it is (any resource group or subscription); the identity gets Log Analytics Reader on it
// through modules/workspace-reader.bicep deployed at that scope.
//
// Deploy with `azd up` (azure.yaml, main.parameters.json) or `az deployment group create`
// (see docs/deploy.md). Resource-group scope so that both routes use this one file.
//
// The app settings are the object `appSettings` below: one literal key per line. The test
// handler/config/sync_test.go reads the keys out of this file and compares them with
// config.Settings and local.settings.sample.json, so add a setting there, here and in the sample.
//
// infra/infra_test.go reads this file too and fails on what Flex Consumption refuses (runtime other
// than custom 1.0, maximumInstanceCount below 40, memory other than 512/2048/4096, deprecated app
// settings and site properties), on a role other than the five below or on a broader scope, and on
// a secret outside Key Vault. docs/deploy.md ("Flex Consumption limits") cites the sources.

targetScope = 'resourceGroup'

// ---------------------------------------------------------------------------------------------
// Parameters
// ---------------------------------------------------------------------------------------------

@minLength(1)
@maxLength(64)
@description('Environment name (azd sets it from AZURE_ENV_NAME); feeds the names of all resources.')
param environmentName string

@description('Region of every resource here; must offer Flex Consumption.')
@metadata({ azd: { type: 'location' } })
param location string = resourceGroup().location

@description('Resource id of the Sentinel Log Analytics workspace to hunt in: /subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.OperationalInsights/workspaces/<name>. It may live in another resource group or subscription.')
param sentinelWorkspaceResourceId string

@description('NCRONTAB schedule of the timer (six fields, UTC). Read by the Functions host as %HUNT_SCHEDULE%; each tick runs the hunts that are due.')
param huntSchedule string = '0 */5 * * * *'

@description('Window each run queries (Go duration).')
param huntLookback string = '24h'

@description('How often a hunting query without a frequency of its own runs (Go duration); 0 = at every tick.')
param huntFrequency string = '1h'

@description('Longest window after downtime (Go duration).')
param huntMaxCatchup string = '168h'

@description('The window ends this long before now, so late-arriving rows are in before a run is reported (Go duration).')
param huntSettle string = '30m'

@description('The hunt pack: comma-separated bundled hunt names, YAML files and folders in the package; empty: huntFile, else the bundled pack.')
param hunts string = ''

@description('One Sentinel YAML file or bundled hunt name (compatibility; prefer hunts, and set only one of the two).')
param huntFile string = ''

@description('Hunts of one tick that run at once (1-5; Log Analytics allows 5 concurrent queries per user).')
param huntConcurrency string = '3'

@description('Rows of one query answer a run processes (1-500000); a larger answer is processed up to this and an alert says how many rows were not.')
param huntMaxRows string = '100000'

@minLength(3)
@maxLength(63)
@description('Name of the dedup table created in the storage account.')
param dedupTableName string = 'HuntFindings'

@description('After this a known fingerprint alerts again; 0 = never (Go duration).')
param dedupTtl string = '720h'

@allowed([ 'botToken', 'webhook' ])
@description('botToken: slackSecret is a bot token (xoxb-...) and slackChannel is required. webhook: slackSecret is an incoming webhook URL.')
param slackAuthMode string = 'botToken'

@secure()
@description('The Slack bot token or incoming webhook URL (see slackAuthMode). Stored in Key Vault only.')
param slackSecret string

@description('Slack channel id or name for the bot token; ignored in webhook mode.')
param slackChannel string = ''

@description('Channels for High, Medium, Low and Informational findings (bot token only); empty: slackChannel.')
param slackChannelHigh string = ''
param slackChannelMedium string = ''
param slackChannelLow string = ''
param slackChannelInformational string = ''

@description('Slack Web API base URL.')
param slackApiUrl string = 'https://slack.com/api/'

@description('Log Analytics query API base URL (change for sovereign clouds).')
param logAnalyticsEndpoint string = 'https://api.loganalytics.io/v1'

@allowed([ 'debug', 'info', 'warn', 'error' ])
param logLevel string = 'info'

@description('A run with more new findings than this posts one digest with a CSV of all; 0 = never.')
param slackDigestThreshold string = '10'

@description('Consecutive failed runs before one "huntwatch is failing" message; 0 = never.')
param healthAlertAfter string = '3'

@description('UTC hour (0-23) after which a daily heartbeat message is posted; empty: no heartbeat.')
param healthHeartbeatHour string = ''

// The Flex Consumption sizes. 512 MB (0.25 vCPU) is plenty for one static Go binary that waits on a
// few Log Analytics queries per tick; 2048 when a hunt's answers are large (docs/deploy.md, "Choices").
@allowed([ 512, 2048, 4096 ])
@description('Flex Consumption instance memory in MB: 512, 2048 or 4096.')
param instanceMemoryMB int = 512

// Flex Consumption accepts 40 to 1000 (docs/deploy.md cites the sources). Values below 40 are a
// preview in a few regions only, set after deployment with `az functionapp scale config set`; this
// template keeps to the general limit so that it deploys in every Flex region. 40 costs nothing:
// on-demand instances are billed only while they run, and the timer runs one execution at a time
// across instances (the host's storage lock), so huntwatch never uses more than one.
@minValue(40)
@maxValue(1000)
@description('Flex Consumption maximum instance count (40 to 1000). huntwatch uses one instance at a time whatever the value.')
param maximumInstanceCount int = 40

@description('Tags for every resource.')
param tags object = {}

// ---------------------------------------------------------------------------------------------
// Names and constants
// ---------------------------------------------------------------------------------------------

var resourceToken = toLower(uniqueString(subscription().id, resourceGroup().id, environmentName))
var allTags = union(tags, { 'azd-env-name': environmentName })

var identityName = 'id-huntwatch-${resourceToken}'
var storageAccountName = 'st${resourceToken}'
var deploymentContainerName = 'app-package-huntwatch-${take(resourceToken, 7)}'
var monitoringWorkspaceName = 'log-huntwatch-${resourceToken}'
var appInsightsName = 'appi-huntwatch-${resourceToken}'
var keyVaultName = 'kv-${resourceToken}'
var planName = 'plan-huntwatch-${resourceToken}'
var functionAppName = 'func-huntwatch-${resourceToken}'

// /subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.OperationalInsights/workspaces/{name}
var sentinelIdParts = split(sentinelWorkspaceResourceId, '/')
var sentinelSubscriptionId = sentinelIdParts[2]
var sentinelResourceGroupName = sentinelIdParts[4]
var sentinelWorkspaceName = sentinelIdParts[8]

// Built-in role definition ids (the same in every tenant).
var roleIds = {
  logAnalyticsReader: '73c42c96-874c-492b-b04d-ab87d138a893'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
}

var slackSecretName = slackAuthMode == 'botToken' ? 'slack-bot-token' : 'slack-webhook-url'

// ---------------------------------------------------------------------------------------------
// Identity
// ---------------------------------------------------------------------------------------------

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: identityName
  location: location
  tags: allTags
}

// ---------------------------------------------------------------------------------------------
// Storage: host storage (timer leases, host keys), the deployment container, the dedup table
// ---------------------------------------------------------------------------------------------

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: storageAccountName
  location: location
  tags: allTags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    accessTier: 'Hot'
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false // Entra ID only: every client here uses the managed identity
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
  }

  resource blobService 'blobServices' = {
    name: 'default'

    resource deploymentContainer 'containers' = {
      name: deploymentContainerName
      properties: {
        publicAccess: 'None'
      }
    }
  }

  resource tableService 'tableServices' = {
    name: 'default'

    resource dedupTable 'tables' = {
      name: dedupTableName
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Monitoring: workspace-based Application Insights, Entra ID ingestion only
// ---------------------------------------------------------------------------------------------

resource monitoringWorkspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: monitoringWorkspaceName
  location: location
  tags: allTags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: 30
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: appInsightsName
  location: location
  tags: allTags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: monitoringWorkspace.id
    IngestionMode: 'LogAnalytics'
    DisableLocalAuth: true // telemetry only with an Entra token (APPLICATIONINSIGHTS_AUTHENTICATION_STRING)
  }
}

// ---------------------------------------------------------------------------------------------
// Key Vault: the Slack credential
// ---------------------------------------------------------------------------------------------

resource keyVault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: keyVaultName
  location: location
  tags: allTags
  properties: {
    tenantId: tenant().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 7
    publicNetworkAccess: 'Enabled'
  }
}

resource slackSecretResource 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: keyVault
  name: slackSecretName
  properties: {
    value: slackSecret
    contentType: slackAuthMode == 'botToken' ? 'Slack bot token' : 'Slack incoming webhook URL'
  }
}

// Versionless, so the app picks up a new secret version by itself (docs/deploy.md, rotation).
var slackKeyVaultReference = '@Microsoft.KeyVault(SecretUri=${slackSecretResource.properties.secretUri})'

// ---------------------------------------------------------------------------------------------
// Role assignments for the identity, each on the narrowest scope that works
// ---------------------------------------------------------------------------------------------

// Host storage (AzureWebJobsStorage) and the Flex deployment container need blob data ownership.
resource storageBlobDataOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, identity.id, roleIds.storageBlobDataOwner)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageBlobDataOwner)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// The dedup table (DEDUP_TABLE_ENDPOINT).
resource storageTableDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, identity.id, roleIds.storageTableDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageTableDataContributor)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// Entra-authenticated telemetry (the component has local auth disabled).
resource monitoringMetricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, identity.id, roleIds.monitoringMetricsPublisher)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.monitoringMetricsPublisher)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// Key Vault references (keyVaultReferenceIdentity is this identity).
resource keyVaultSecretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(keyVault.id, identity.id, roleIds.keyVaultSecretsUser)
  scope: keyVault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.keyVaultSecretsUser)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// Log Analytics Reader on the Sentinel workspace, wherever it lives.
module workspaceReader 'modules/workspace-reader.bicep' = {
  name: 'huntwatch-workspace-reader-${resourceToken}'
  scope: resourceGroup(sentinelSubscriptionId, sentinelResourceGroupName)
  params: {
    workspaceName: sentinelWorkspaceName
    principalId: identity.properties.principalId
    roleDefinitionId: roleIds.logAnalyticsReader
  }
}

resource sentinelWorkspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' existing = {
  name: sentinelWorkspaceName
  scope: resourceGroup(sentinelSubscriptionId, sentinelResourceGroupName)
}

// ---------------------------------------------------------------------------------------------
// Function app: Flex Consumption, custom handler
// ---------------------------------------------------------------------------------------------

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: allTags
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true // Linux
  }
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  name: functionAppName
  location: location
  tags: union(allTags, { 'azd-service-name': 'huntwatch' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identity.id}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    keyVaultReferenceIdentity: identity.id
    siteConfig: {
      minTlsVersion: '1.2'
      // Nothing else: Flex Consumption refuses ftpsState, use32BitWorkerProcess, preWarmedInstanceCount,
      // netFrameworkVersion, functionAppScaleLimit and minimumElasticInstanceCount (infra/infra_test.go).
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identity.id
          }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
      }
      runtime: {
        name: 'custom' // a custom handler; exactly custom 1.0, ARM accepts other values and the host then fails to start
        version: '1.0'
      }
    }
  }
  // The identity must hold its roles before the app first starts: host storage, the deployment
  // container and the first resolution of the Key Vault reference all happen at start.
  dependsOn: [
    storage::blobService::deploymentContainer
    storage::tableService::dedupTable
    storageBlobDataOwner
    storageTableDataContributor
    monitoringMetricsPublisher
    keyVaultSecretsUser
  ]
}

// No basic-auth publishing: FTP off, and deployments go through Entra ID (azd, az) only.
resource ftpPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: functionApp
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: functionApp
  name: 'scm'
  properties: {
    allow: false
  }
  dependsOn: [
    ftpPublishing // one write to the site at a time avoids 409 Conflict from the Web RP
  ]
}

var tableEndpoint = storage.properties.primaryEndpoints.table // ends with '/'

// Every setting the handler reads (config.Settings) plus the host's own. One key per line.
var appSettings = {
  // Functions host: identity-based host storage and Entra-authenticated Application Insights.
  AzureWebJobsStorage__accountName: storage.name
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identity.properties.clientId
  APPLICATIONINSIGHTS_CONNECTION_STRING: appInsights.properties.ConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identity.properties.clientId};Authorization=AAD'

  // huntwatch (handler/config/config.go).
  LOG_ANALYTICS_WORKSPACE_ID: sentinelWorkspace.properties.customerId
  LOG_ANALYTICS_ENDPOINT: logAnalyticsEndpoint
  LOG_ANALYTICS_WORKSPACE_RESOURCE_ID: sentinelWorkspaceResourceId
  HUNTS: hunts
  HUNT_FILE: huntFile
  HUNT_SCHEDULE: huntSchedule
  HUNT_CONCURRENCY: huntConcurrency
  HUNT_LOOKBACK: huntLookback
  HUNT_FREQUENCY: huntFrequency
  HUNT_MAX_CATCHUP: huntMaxCatchup
  HUNT_MAX_ROWS: huntMaxRows
  HUNT_SETTLE: huntSettle
  DEDUP_TABLE_CONNECTION: '' // shared keys are off; the table is reached with the identity
  DEDUP_TABLE_ENDPOINT: endsWith(tableEndpoint, '/') ? substring(tableEndpoint, 0, length(tableEndpoint) - 1) : tableEndpoint
  DEDUP_TABLE_NAME: dedupTableName
  DEDUP_TTL: dedupTtl
  SLACK_BOT_TOKEN: slackAuthMode == 'botToken' ? slackKeyVaultReference : ''
  SLACK_CHANNEL: slackAuthMode == 'botToken' ? slackChannel : ''
  SLACK_CHANNEL_HIGH: slackAuthMode == 'botToken' ? slackChannelHigh : ''
  SLACK_CHANNEL_MEDIUM: slackAuthMode == 'botToken' ? slackChannelMedium : ''
  SLACK_CHANNEL_LOW: slackAuthMode == 'botToken' ? slackChannelLow : ''
  SLACK_CHANNEL_INFORMATIONAL: slackAuthMode == 'botToken' ? slackChannelInformational : ''
  SLACK_WEBHOOK_URL: slackAuthMode == 'webhook' ? slackKeyVaultReference : ''
  // Webhooks by severity are secrets too; the template holds one Slack secret, so these stay empty
  // (add them as Key Vault references by hand: docs/deploy.md, "Routing by severity").
  SLACK_WEBHOOK_URL_HIGH: ''
  SLACK_WEBHOOK_URL_MEDIUM: ''
  SLACK_WEBHOOK_URL_LOW: ''
  SLACK_WEBHOOK_URL_INFORMATIONAL: ''
  SLACK_API_URL: slackApiUrl
  SLACK_DIGEST_THRESHOLD: slackDigestThreshold
  HEALTH_ALERT_AFTER: healthAlertAfter
  HEALTH_HEARTBEAT_HOUR: healthHeartbeatHour
  AZURE_CLIENT_ID: identity.properties.clientId
  LOG_LEVEL: logLevel

  // Go runtime: the collector keeps the heap at 7/32 of the instance (112 MiB of 512 MB), so
  // that with what Go does not manage (the binary, stacks) the handler stays within a quarter
  // (the Functions host shares the instance), working harder on a large answer instead of
  // letting the instance run out of memory (docs/performance.md).
  GOMEMLIMIT: '${instanceMemoryMB * 7 / 32}MiB'
}

resource functionAppSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: functionApp
  name: 'appsettings'
  properties: appSettings
  dependsOn: [
    scmPublishing
    workspaceReader // the handler's first run needs to read the Sentinel workspace
  ]
}

// ---------------------------------------------------------------------------------------------
// Outputs (azd stores them in the environment's .env)
// ---------------------------------------------------------------------------------------------

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_FUNCTION_APP_NAME string = functionApp.name
output SERVICE_HUNTWATCH_NAME string = functionApp.name
output AZURE_KEY_VAULT_NAME string = keyVault.name
output AZURE_KEY_VAULT_SECRET_NAME string = slackSecretResource.name
output AZURE_STORAGE_ACCOUNT_NAME string = storage.name
output AZURE_MANAGED_IDENTITY_CLIENT_ID string = identity.properties.clientId
output APPLICATIONINSIGHTS_NAME string = appInsights.name
