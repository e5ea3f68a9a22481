# ruff: noqa: E501
"""Members and enum values Compute accepts in a VMSS PUT body (ComputeRP 2026-03-01).

Generated from the ARM template schema by tests/sandbox/test_vmss_model.py; do not edit.
A type is "string", "integer", "number", "boolean", "any", "enum:<key in ENUMS>",
"[<type>]" (array), "{<type>}" (map) or "#<definition>".
"""

TYPES: dict[str, dict[str, str]] = {
    "AdditionalCapabilities": {
        "enableFips1403Encryption": "boolean",
        "hibernationEnabled": "boolean",
        "ultraSSDEnabled": "boolean",
    },
    "AdditionalUnattendContent": {
        "componentName": "enum:AdditionalUnattendContent.componentName",
        "content": "string",
        "passName": "enum:AdditionalUnattendContent.passName",
        "settingName": "enum:AdditionalUnattendContent.settingName",
    },
    "AllInstancesDown": {
        "automaticallyApprove": "boolean",
    },
    "ApiEntityReference": {
        "id": "string",
    },
    "ApplicationProfile": {
        "galleryApplications": "[#VMGalleryApplication]",
    },
    "AutomaticOSUpgradePolicy": {
        "disableAutomaticRollback": "boolean",
        "enableAutomaticOSUpgrade": "boolean",
        "osRollingUpgradeDeferral": "boolean",
        "useRollingUpgradePolicy": "boolean",
    },
    "AutomaticRepairsPolicy": {
        "enabled": "boolean",
        "gracePeriod": "string",
        "repairAction": "enum:AutomaticRepairsPolicy.repairAction",
    },
    "AutomaticSkuMigrationPolicy": {
        "enabled": "boolean",
    },
    "AutomaticZoneRebalancingPolicy": {
        "enabled": "boolean",
        "rebalanceBehavior": "enum:AutomaticZoneRebalancingPolicy.rebalanceBehavior",
        "rebalanceStrategy": "enum:AutomaticZoneRebalancingPolicy.rebalanceStrategy",
    },
    "BillingProfile": {
        "maxPrice": "number",
    },
    "BootDiagnostics": {
        "enabled": "boolean",
        "storageUri": "string",
    },
    "CapacityReservationProfile": {
        "capacityReservationGroup": "#SubResource",
    },
    "CommonUserAssignedIdentitiesValue": {},
    "DiagnosticsProfile": {
        "bootDiagnostics": "#BootDiagnostics",
    },
    "DiffDiskSettings": {
        "enableFullCaching": "boolean",
        "option": "enum:DiffDiskSettings.option",
        "placement": "enum:DiffDiskSettings.placement",
    },
    "DiskEncryptionSetParameters": {
        "id": "string",
    },
    "EncryptionIdentity": {
        "userAssignedIdentityResourceId": "string",
    },
    "EventGridAndResourceGraph": {
        "enable": "boolean",
        "scheduledEventsApiVersion": "string",
    },
    "ExtendedLocation": {
        "name": "string",
        "type": "enum:ExtendedLocation.type",
    },
    "ExternalHealthPolicy": {
        "enabled": "boolean",
        "expiryDuration": "string",
        "gracePeriod": "string",
    },
    "HostEndpointSettings": {
        "inVMAccessControlProfileReferenceId": "string",
        "mode": "enum:HostEndpointSettings.mode",
    },
    "ImageReference": {
        "communityGalleryImageId": "string",
        "id": "string",
        "offer": "string",
        "publisher": "string",
        "sharedGalleryImageId": "string",
        "sku": "string",
        "version": "string",
    },
    "InterconnectBlockProfile": {
        "interconnectBlock": "#ApiEntityReference",
    },
    "InterconnectGroupProfile": {
        "interconnectGroup": "#SubResource",
        "subgroups": "[#SubResource]",
    },
    "LifecycleHook": {
        "defaultAction": "enum:LifecycleHook.defaultAction",
        "type": "enum:LifecycleHook.type",
        "waitDuration": "string",
    },
    "LifecycleHooksProfile": {
        "lifecycleHooks": "[#LifecycleHook]",
    },
    "LinuxConfiguration": {
        "disablePasswordAuthentication": "boolean",
        "enableVMAgentPlatformUpdates": "boolean",
        "patchSettings": "#LinuxPatchSettings",
        "provisionVMAgent": "boolean",
        "ssh": "#SshConfiguration",
    },
    "LinuxPatchSettings": {
        "assessmentMode": "enum:LinuxPatchSettings.assessmentMode",
        "automaticByPlatformSettings": "#LinuxVMGuestPatchAutomaticByPlatformSettings",
        "patchMode": "enum:LinuxPatchSettings.patchMode",
    },
    "LinuxVMGuestPatchAutomaticByPlatformSettings": {
        "bypassPlatformSafetyChecksOnUserSchedule": "boolean",
        "rebootSetting": "enum:LinuxVMGuestPatchAutomaticByPlatformSettings.rebootSetting",
    },
    "MaxInstancePercentPerZonePolicy": {
        "enabled": "boolean",
        "value": "integer",
    },
    "OSImageNotificationProfile": {
        "enable": "boolean",
        "notBeforeTimeout": "string",
    },
    "OperationRecoverySettings": {
        "reimageRecoveryPolicy": "#ReimageRecoveryPolicy",
        "restartRecoveryPolicy": "#RestartRecoveryPolicy",
        "startRecoveryPolicy": "#StartRecoveryPolicy",
    },
    "PatchSettings": {
        "assessmentMode": "enum:PatchSettings.assessmentMode",
        "automaticByPlatformSettings": "#WindowsVMGuestPatchAutomaticByPlatformSettings",
        "enableHotpatching": "boolean",
        "patchMode": "enum:PatchSettings.patchMode",
    },
    "Placement": {
        "excludeZones": "[string]",
        "includeZones": "[string]",
        "zonePlacementPolicy": "enum:Placement.zonePlacementPolicy",
    },
    "Plan": {
        "name": "string",
        "product": "string",
        "promotionCode": "string",
        "publisher": "string",
    },
    "PriorityMixPolicy": {
        "baseRegularPriorityCount": "integer",
        "regularPriorityPercentageAboveBase": "integer",
    },
    "ProxyAgentSettings": {
        "addProxyAgentExtension": "boolean",
        "enabled": "boolean",
        "imds": "#HostEndpointSettings",
        "keyIncarnationId": "integer",
        "mode": "enum:ProxyAgentSettings.mode",
        "wireServer": "#HostEndpointSettings",
    },
    "PublicIPAddressSku": {
        "name": "enum:PublicIPAddressSku.name",
        "tier": "enum:PublicIPAddressSku.tier",
    },
    "ReimageRecoveryPolicy": {
        "enabled": "boolean",
    },
    "ResiliencyPolicy": {
        "automaticZoneRebalancingPolicy": "#AutomaticZoneRebalancingPolicy",
        "operationRecoverySettings": "#OperationRecoverySettings",
        "resilientVMCreationPolicy": "#ResilientVMCreationPolicy",
        "resilientVMDeletionPolicy": "#ResilientVMDeletionPolicy",
        "zoneAllocationPolicy": "#ZoneAllocationPolicy",
    },
    "ResilientVMCreationPolicy": {
        "enabled": "boolean",
    },
    "ResilientVMDeletionPolicy": {
        "enabled": "boolean",
    },
    "RestartRecoveryPolicy": {
        "enabled": "boolean",
    },
    "RollingUpgradePolicy": {
        "enableCrossZoneUpgrade": "boolean",
        "maxBatchInstancePercent": "integer",
        "maxSurge": "boolean",
        "maxUnhealthyInstancePercent": "integer",
        "maxUnhealthyUpgradedInstancePercent": "integer",
        "pauseTimeBetweenBatches": "string",
        "prioritizeUnhealthyInstances": "boolean",
        "rollbackFailedInstancesOnPolicyBreach": "boolean",
    },
    "ScaleInPolicy": {
        "forceDeletion": "boolean",
        "prioritizeUnhealthyVMs": "boolean",
        "rules": "[enum:ScaleInPolicy.rules[]]",
    },
    "ScheduledEventsAdditionalPublishingTargets": {
        "eventGridAndResourceGraph": "#EventGridAndResourceGraph",
    },
    "ScheduledEventsPolicy": {
        "allInstancesDown": "#AllInstancesDown",
        "scheduledEventsAdditionalPublishingTargets": "#ScheduledEventsAdditionalPublishingTargets",
        "userInitiatedReboot": "#UserInitiatedReboot",
        "userInitiatedRedeploy": "#UserInitiatedRedeploy",
    },
    "ScheduledEventsProfile": {
        "osImageNotificationProfile": "#OSImageNotificationProfile",
        "terminateNotificationProfile": "#TerminateNotificationProfile",
    },
    "SecurityPostureReference": {
        "excludeExtensions": "[string]",
        "id": "string",
        "isOverridable": "boolean",
    },
    "SecurityProfile": {
        "encryptionAtHost": "boolean",
        "encryptionIdentity": "#EncryptionIdentity",
        "proxyAgentSettings": "#ProxyAgentSettings",
        "securityType": "enum:SecurityProfile.securityType",
        "uefiSettings": "#UefiSettings",
    },
    "ServiceArtifactReference": {
        "id": "string",
    },
    "Sku": {
        "capacity": "integer",
        "name": "string",
        "tier": "string",
    },
    "SkuProfile": {
        "allocationStrategy": "enum:SkuProfile.allocationStrategy",
        "automaticSkuMigrationPolicy": "#AutomaticSkuMigrationPolicy",
        "vmSizes": "[#SkuProfileVMSize]",
    },
    "SkuProfileVMSize": {
        "name": "string",
        "rank": "integer",
    },
    "SpotRestorePolicy": {
        "enabled": "boolean",
        "restoreTimeout": "string",
    },
    "SshConfiguration": {
        "publicKeys": "[#SshPublicKey]",
    },
    "SshPublicKey": {
        "keyData": "string",
        "path": "string",
    },
    "StartRecoveryPolicy": {
        "enabled": "boolean",
    },
    "SubResource": {
        "id": "string",
    },
    "TerminateNotificationProfile": {
        "enable": "boolean",
        "notBeforeTimeout": "string",
    },
    "UefiSettings": {
        "secureBootEnabled": "boolean",
        "vTpmEnabled": "boolean",
    },
    "UpgradePolicy": {
        "automaticOSUpgradePolicy": "#AutomaticOSUpgradePolicy",
        "mode": "enum:UpgradePolicy.mode",
        "rollingUpgradePolicy": "#RollingUpgradePolicy",
    },
    "UserInitiatedReboot": {
        "automaticallyApprove": "boolean",
    },
    "UserInitiatedRedeploy": {
        "automaticallyApprove": "boolean",
    },
    "VMDiskSecurityProfile": {
        "diskEncryptionSet": "#DiskEncryptionSetParameters",
        "securityEncryptionType": "enum:VMDiskSecurityProfile.securityEncryptionType",
    },
    "VMGalleryApplication": {
        "configurationReference": "string",
        "enableAutomaticUpgrade": "boolean",
        "order": "integer",
        "packageReferenceId": "string",
        "tags": "string",
        "treatFailureAsDeploymentFailure": "boolean",
    },
    "VMSizeProperties": {
        "vCPUsAvailable": "integer",
        "vCPUsPerCore": "integer",
    },
    "VaultCertificate": {
        "certificateStore": "string",
        "certificateUrl": "string",
    },
    "VaultSecretGroup": {
        "sourceVault": "#SubResource",
        "vaultCertificates": "[#VaultCertificate]",
    },
    "VirtualHardDisk": {
        "uri": "string",
    },
    "VirtualMachineScaleSet": {
        "extendedLocation": "#ExtendedLocation",
        "identity": "#VirtualMachineScaleSetIdentity",
        "location": "string",
        "placement": "#Placement",
        "plan": "#Plan",
        "properties": "#VirtualMachineScaleSetProperties",
        "sku": "#Sku",
        "tags": "{string}",
        "zones": "[string]",
    },
    "VirtualMachineScaleSetDataDisk": {
        "caching": "enum:VirtualMachineScaleSetDataDisk.caching",
        "createOption": "enum:VirtualMachineScaleSetDataDisk.createOption",
        "deleteOption": "enum:VirtualMachineScaleSetDataDisk.deleteOption",
        "diskIOPSReadWrite": "integer",
        "diskMBpsReadWrite": "integer",
        "diskSizeGB": "integer",
        "lun": "integer",
        "managedDisk": "#VirtualMachineScaleSetManagedDiskParameters",
        "name": "string",
        "storageFaultDomainAlignment": "enum:VirtualMachineScaleSetDataDisk.storageFaultDomainAlignment",
        "writeAcceleratorEnabled": "boolean",
    },
    "VirtualMachineScaleSetExtension": {
        "name": "string",
        "properties": "any",
    },
    "VirtualMachineScaleSetExtensionProfile": {
        "extensions": "[#VirtualMachineScaleSetExtension]",
        "extensionsTimeBudget": "string",
    },
    "VirtualMachineScaleSetHardwareProfile": {
        "vmSizeProperties": "#VMSizeProperties",
    },
    "VirtualMachineScaleSetIPConfiguration": {
        "name": "string",
        "properties": "#VirtualMachineScaleSetIPConfigurationProperties",
    },
    "VirtualMachineScaleSetIPConfigurationProperties": {
        "applicationGatewayBackendAddressPools": "[#SubResource]",
        "applicationSecurityGroups": "[#SubResource]",
        "loadBalancerBackendAddressPools": "[#SubResource]",
        "loadBalancerInboundNatPools": "[#SubResource]",
        "primary": "boolean",
        "privateIPAddressVersion": "enum:VirtualMachineScaleSetIPConfigurationProperties.privateIPAddressVersion",
        "publicIPAddressConfiguration": "#VirtualMachineScaleSetPublicIPAddressConfiguration",
        "subnet": "#ApiEntityReference",
    },
    "VirtualMachineScaleSetIdentity": {
        "type": "enum:VirtualMachineScaleSetIdentity.type",
        "userAssignedIdentities": "{#CommonUserAssignedIdentitiesValue}",
    },
    "VirtualMachineScaleSetIpTag": {
        "ipTagType": "string",
        "tag": "string",
    },
    "VirtualMachineScaleSetManagedDiskParameters": {
        "diskEncryptionSet": "#DiskEncryptionSetParameters",
        "securityProfile": "#VMDiskSecurityProfile",
        "storageAccountType": "enum:VirtualMachineScaleSetManagedDiskParameters.storageAccountType",
    },
    "VirtualMachineScaleSetNetworkConfiguration": {
        "name": "string",
        "properties": "#VirtualMachineScaleSetNetworkConfigurationProperties",
        "tags": "{string}",
    },
    "VirtualMachineScaleSetNetworkConfigurationDnsSettings": {
        "dnsServers": "[string]",
    },
    "VirtualMachineScaleSetNetworkConfigurationProperties": {
        "auxiliaryMode": "enum:VirtualMachineScaleSetNetworkConfigurationProperties.auxiliaryMode",
        "auxiliarySku": "enum:VirtualMachineScaleSetNetworkConfigurationProperties.auxiliarySku",
        "deleteOption": "enum:VirtualMachineScaleSetNetworkConfigurationProperties.deleteOption",
        "disableTcpStateTracking": "boolean",
        "dnsSettings": "#VirtualMachineScaleSetNetworkConfigurationDnsSettings",
        "enableAcceleratedNetworking": "boolean",
        "enableFpga": "boolean",
        "enableIPForwarding": "boolean",
        "ipConfigurations": "[#VirtualMachineScaleSetIPConfiguration]",
        "networkSecurityGroup": "#SubResource",
        "primary": "boolean",
    },
    "VirtualMachineScaleSetNetworkProfile": {
        "healthProbe": "#ApiEntityReference",
        "interconnectGroupProfile": "#InterconnectGroupProfile",
        "networkApiVersion": "enum:VirtualMachineScaleSetNetworkProfile.networkApiVersion",
        "networkInterfaceConfigurations": "[#VirtualMachineScaleSetNetworkConfiguration]",
    },
    "VirtualMachineScaleSetOSDisk": {
        "caching": "enum:VirtualMachineScaleSetOSDisk.caching",
        "createOption": "enum:VirtualMachineScaleSetOSDisk.createOption",
        "deleteOption": "enum:VirtualMachineScaleSetOSDisk.deleteOption",
        "diffDiskSettings": "#DiffDiskSettings",
        "diskSizeGB": "integer",
        "image": "#VirtualHardDisk",
        "managedDisk": "#VirtualMachineScaleSetManagedDiskParameters",
        "name": "string",
        "osType": "enum:VirtualMachineScaleSetOSDisk.osType",
        "storageFaultDomainAlignment": "enum:VirtualMachineScaleSetOSDisk.storageFaultDomainAlignment",
        "vhdContainers": "[string]",
        "writeAcceleratorEnabled": "boolean",
    },
    "VirtualMachineScaleSetOSProfile": {
        "adminPassword": "string",
        "adminUsername": "string",
        "allowExtensionOperations": "boolean",
        "computerNamePrefix": "string",
        "customData": "string",
        "linuxConfiguration": "#LinuxConfiguration",
        "requireGuestProvisionSignal": "boolean",
        "secrets": "[#VaultSecretGroup]",
        "windowsConfiguration": "#WindowsConfiguration",
    },
    "VirtualMachineScaleSetProperties": {
        "additionalCapabilities": "#AdditionalCapabilities",
        "automaticRepairsPolicy": "#AutomaticRepairsPolicy",
        "constrainedMaximumCapacity": "boolean",
        "doNotRunExtensionsOnOverprovisionedVMs": "boolean",
        "externalHealthPolicy": "#ExternalHealthPolicy",
        "highSpeedInterconnectPlacement": "enum:VirtualMachineScaleSetProperties.highSpeedInterconnectPlacement",
        "hostGroup": "#SubResource",
        "lifecycleHooksProfile": "#LifecycleHooksProfile",
        "orchestrationMode": "enum:VirtualMachineScaleSetProperties.orchestrationMode",
        "overprovision": "boolean",
        "platformFaultDomainCount": "integer",
        "priorityMixPolicy": "#PriorityMixPolicy",
        "proximityPlacementGroup": "#SubResource",
        "resiliencyPolicy": "#ResiliencyPolicy",
        "scaleInPolicy": "#ScaleInPolicy",
        "scheduledEventsPolicy": "#ScheduledEventsPolicy",
        "singlePlacementGroup": "boolean",
        "skuProfile": "#SkuProfile",
        "spotRestorePolicy": "#SpotRestorePolicy",
        "upgradePolicy": "#UpgradePolicy",
        "virtualMachineProfile": "#VirtualMachineScaleSetVMProfile",
        "zonalPlatformFaultDomainAlignMode": "enum:VirtualMachineScaleSetProperties.zonalPlatformFaultDomainAlignMode",
        "zoneBalance": "boolean",
    },
    "VirtualMachineScaleSetPublicIPAddressConfiguration": {
        "name": "string",
        "properties": "#VirtualMachineScaleSetPublicIPAddressConfigurationProperties",
        "sku": "#PublicIPAddressSku",
        "tags": "{string}",
    },
    "VirtualMachineScaleSetPublicIPAddressConfigurationDnsSettings": {
        "domainNameLabel": "string",
        "domainNameLabelScope": "enum:VirtualMachineScaleSetPublicIPAddressConfigurationDnsSettings.domainNameLabelScope",
    },
    "VirtualMachineScaleSetPublicIPAddressConfigurationProperties": {
        "deleteOption": "enum:VirtualMachineScaleSetPublicIPAddressConfigurationProperties.deleteOption",
        "dnsSettings": "#VirtualMachineScaleSetPublicIPAddressConfigurationDnsSettings",
        "idleTimeoutInMinutes": "integer",
        "ipTags": "[#VirtualMachineScaleSetIpTag]",
        "publicIPAddressVersion": "enum:VirtualMachineScaleSetPublicIPAddressConfigurationProperties.publicIPAddressVersion",
        "publicIPPrefix": "#SubResource",
    },
    "VirtualMachineScaleSetStorageProfile": {
        "dataDisks": "[#VirtualMachineScaleSetDataDisk]",
        "diskControllerType": "enum:VirtualMachineScaleSetStorageProfile.diskControllerType",
        "imageReference": "#ImageReference",
        "osDisk": "#VirtualMachineScaleSetOSDisk",
    },
    "VirtualMachineScaleSetVMProfile": {
        "applicationProfile": "#ApplicationProfile",
        "billingProfile": "#BillingProfile",
        "capacityReservation": "#CapacityReservationProfile",
        "diagnosticsProfile": "#DiagnosticsProfile",
        "evictionPolicy": "enum:VirtualMachineScaleSetVMProfile.evictionPolicy",
        "extensionProfile": "#VirtualMachineScaleSetExtensionProfile",
        "hardwareProfile": "#VirtualMachineScaleSetHardwareProfile",
        "interconnectBlockProfile": "#InterconnectBlockProfile",
        "licenseType": "string",
        "networkProfile": "#VirtualMachineScaleSetNetworkProfile",
        "osProfile": "#VirtualMachineScaleSetOSProfile",
        "priority": "enum:VirtualMachineScaleSetVMProfile.priority",
        "scheduledEventsProfile": "#ScheduledEventsProfile",
        "securityPostureReference": "#SecurityPostureReference",
        "securityProfile": "#SecurityProfile",
        "serviceArtifactReference": "#ServiceArtifactReference",
        "storageProfile": "#VirtualMachineScaleSetStorageProfile",
        "userData": "string",
    },
    "WinRMConfiguration": {
        "listeners": "[#WinRMListener]",
    },
    "WinRMListener": {
        "certificateUrl": "string",
        "protocol": "enum:WinRMListener.protocol",
    },
    "WindowsConfiguration": {
        "additionalUnattendContent": "[#AdditionalUnattendContent]",
        "enableAutomaticUpdates": "boolean",
        "patchSettings": "#PatchSettings",
        "provisionVMAgent": "boolean",
        "timeZone": "string",
        "winRM": "#WinRMConfiguration",
    },
    "WindowsVMGuestPatchAutomaticByPlatformSettings": {
        "bypassPlatformSafetyChecksOnUserSchedule": "boolean",
        "rebootSetting": "enum:WindowsVMGuestPatchAutomaticByPlatformSettings.rebootSetting",
    },
    "ZoneAllocationPolicy": {
        "maxInstancePercentPerZonePolicy": "#MaxInstancePercentPerZonePolicy",
        "maxZoneCount": "integer",
    },
}

ENUMS: dict[str, tuple[str, ...]] = {
    "AdditionalUnattendContent.componentName": ("Microsoft-Windows-Shell-Setup",),
    "AdditionalUnattendContent.passName": ("OobeSystem",),
    "AdditionalUnattendContent.settingName": (
        "AutoLogon",
        "FirstLogonCommands",
    ),
    "AutomaticRepairsPolicy.repairAction": (
        "Replace",
        "Restart",
        "Reimage",
    ),
    "AutomaticZoneRebalancingPolicy.rebalanceBehavior": ("CreateBeforeDelete",),
    "AutomaticZoneRebalancingPolicy.rebalanceStrategy": ("Recreate",),
    "DiffDiskSettings.option": ("Local",),
    "DiffDiskSettings.placement": (
        "CacheDisk",
        "ResourceDisk",
        "NvmeDisk",
    ),
    "ExtendedLocation.type": ("EdgeZone",),
    "HostEndpointSettings.mode": (
        "Audit",
        "Enforce",
        "Disabled",
    ),
    "LifecycleHook.defaultAction": (
        "Approve",
        "Reject",
    ),
    "LifecycleHook.type": (
        "UpgradeAutoOSScheduling",
        "UpgradeAutoOSRollingBatchStarting",
    ),
    "LinuxPatchSettings.assessmentMode": (
        "ImageDefault",
        "AutomaticByPlatform",
    ),
    "LinuxPatchSettings.patchMode": (
        "ImageDefault",
        "AutomaticByPlatform",
    ),
    "LinuxVMGuestPatchAutomaticByPlatformSettings.rebootSetting": (
        "Unknown",
        "IfRequired",
        "Never",
        "Always",
    ),
    "PatchSettings.assessmentMode": (
        "ImageDefault",
        "AutomaticByPlatform",
    ),
    "PatchSettings.patchMode": (
        "Manual",
        "AutomaticByOS",
        "AutomaticByPlatform",
    ),
    "Placement.zonePlacementPolicy": (
        "Any",
        "Auto",
    ),
    "ProxyAgentSettings.mode": (
        "Audit",
        "Enforce",
    ),
    "PublicIPAddressSku.name": (
        "Basic",
        "Standard",
    ),
    "PublicIPAddressSku.tier": (
        "Regional",
        "Global",
    ),
    "ScaleInPolicy.rules[]": (
        "Default",
        "OldestVM",
        "NewestVM",
    ),
    "SecurityProfile.securityType": (
        "Standard",
        "TrustedLaunch",
        "ConfidentialVM",
    ),
    "SkuProfile.allocationStrategy": (
        "LowestPrice",
        "CapacityOptimized",
        "Prioritized",
    ),
    "UpgradePolicy.mode": (
        "Automatic",
        "Manual",
        "Rolling",
    ),
    "VMDiskSecurityProfile.securityEncryptionType": (
        "VMGuestStateOnly",
        "DiskWithVMGuestState",
        "NonPersistedTPM",
    ),
    "VirtualMachineScaleSetDataDisk.caching": (
        "None",
        "ReadOnly",
        "ReadWrite",
    ),
    "VirtualMachineScaleSetDataDisk.createOption": (
        "FromImage",
        "Empty",
        "Attach",
        "Copy",
        "Restore",
    ),
    "VirtualMachineScaleSetDataDisk.deleteOption": (
        "Delete",
        "Detach",
    ),
    "VirtualMachineScaleSetDataDisk.storageFaultDomainAlignment": (
        "Aligned",
        "BestEffortAligned",
    ),
    "VirtualMachineScaleSetIPConfigurationProperties.privateIPAddressVersion": (
        "IPv4",
        "IPv6",
    ),
    "VirtualMachineScaleSetIdentity.type": (
        "SystemAssigned",
        "UserAssigned",
        "SystemAssigned, UserAssigned",
        "None",
    ),
    "VirtualMachineScaleSetManagedDiskParameters.storageAccountType": (
        "Standard_LRS",
        "Premium_LRS",
        "StandardSSD_LRS",
        "UltraSSD_LRS",
        "Premium_ZRS",
        "StandardSSD_ZRS",
        "PremiumV2_LRS",
    ),
    "VirtualMachineScaleSetNetworkConfigurationProperties.auxiliaryMode": (
        "None",
        "AcceleratedConnections",
        "Floating",
    ),
    "VirtualMachineScaleSetNetworkConfigurationProperties.auxiliarySku": (
        "None",
        "A1",
        "A2",
        "A4",
        "A8",
    ),
    "VirtualMachineScaleSetNetworkConfigurationProperties.deleteOption": (
        "Delete",
        "Detach",
    ),
    "VirtualMachineScaleSetNetworkProfile.networkApiVersion": (
        "2020-11-01",
        "2022-11-01",
    ),
    "VirtualMachineScaleSetOSDisk.caching": (
        "None",
        "ReadOnly",
        "ReadWrite",
    ),
    "VirtualMachineScaleSetOSDisk.createOption": (
        "FromImage",
        "Empty",
        "Attach",
        "Copy",
        "Restore",
    ),
    "VirtualMachineScaleSetOSDisk.deleteOption": (
        "Delete",
        "Detach",
    ),
    "VirtualMachineScaleSetOSDisk.osType": (
        "Windows",
        "Linux",
    ),
    "VirtualMachineScaleSetOSDisk.storageFaultDomainAlignment": (
        "Aligned",
        "BestEffortAligned",
    ),
    "VirtualMachineScaleSetProperties.highSpeedInterconnectPlacement": (
        "None",
        "Trunk",
    ),
    "VirtualMachineScaleSetProperties.orchestrationMode": (
        "Uniform",
        "Flexible",
    ),
    "VirtualMachineScaleSetProperties.zonalPlatformFaultDomainAlignMode": (
        "Aligned",
        "Unaligned",
        "BestEffortAligned",
    ),
    "VirtualMachineScaleSetPublicIPAddressConfigurationDnsSettings.domainNameLabelScope": (
        "TenantReuse",
        "SubscriptionReuse",
        "ResourceGroupReuse",
        "NoReuse",
    ),
    "VirtualMachineScaleSetPublicIPAddressConfigurationProperties.deleteOption": (
        "Delete",
        "Detach",
    ),
    "VirtualMachineScaleSetPublicIPAddressConfigurationProperties.publicIPAddressVersion": (
        "IPv4",
        "IPv6",
    ),
    "VirtualMachineScaleSetStorageProfile.diskControllerType": (
        "SCSI",
        "NVMe",
    ),
    "VirtualMachineScaleSetVMProfile.evictionPolicy": (
        "Deallocate",
        "Delete",
    ),
    "VirtualMachineScaleSetVMProfile.priority": (
        "Regular",
        "Low",
        "Spot",
    ),
    "WinRMListener.protocol": (
        "Http",
        "Https",
    ),
    "WindowsVMGuestPatchAutomaticByPlatformSettings.rebootSetting": (
        "Unknown",
        "IfRequired",
        "Never",
        "Always",
    ),
}
