// Grants one principal a role on an existing Log Analytics workspace. main.bicep deploys this module
// at the workspace's own resource group (and subscription), which may differ from huntwatch's.

targetScope = 'resourceGroup'

@description('Name of the existing Log Analytics (Sentinel) workspace in this resource group.')
param workspaceName string

@description('Object (principal) id of the managed identity to grant the role to.')
param principalId string

@description('Role definition id (GUID); main.bicep passes Log Analytics Reader.')
param roleDefinitionId string

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' existing = {
  name: workspaceName
}

resource assignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(workspace.id, principalId, roleDefinitionId)
  scope: workspace
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleDefinitionId)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

output roleAssignmentId string = assignment.id
