// parseInstanceMetadata: Microsoft's documented response, AKS-shaped scale-set and Karpenter VMs,
// the compute-only form, case variants, wrong types, and broken bodies.
#include "probes/scheduled_events/instance_metadata.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "probes/scheduled_events/parser.h"

namespace aksnode {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;

InstanceMetadata parseOk(std::string_view body) {
  auto r = parseInstanceMetadata(body);
  EXPECT_TRUE(r.ok()) << r.error();
  return r.ok() ? *r : InstanceMetadata{};
}

// Abridged from Microsoft Learn "Azure Instance Metadata Service" (api-version 2021-02-01 era):
// every leaf a string, absent values "".
constexpr const char* kLearnSample = R"({
  "compute": {
    "azEnvironment": "AzurePublicCloud",
    "customData": "",
    "evictionPolicy": "",
    "isHostCompatibilityLayerVm": "false",
    "licenseType": "",
    "location": "westus",
    "name": "examplevmname",
    "offer": "0001-com-ubuntu-server-focal",
    "osProfile": {
      "adminUsername": "azureuser",
      "computerName": "examplevmname",
      "disablePasswordAuthentication": "true"
    },
    "osType": "Linux",
    "placementGroupId": "",
    "plan": { "name": "", "product": "", "publisher": "" },
    "platformFaultDomain": "0",
    "platformUpdateDomain": "0",
    "priority": "",
    "provider": "Microsoft.Compute",
    "publicKeys": [ { "keyData": "ssh-rsa 0", "path": "/home/user/.ssh/authorized_keys0" } ],
    "publisher": "canonical",
    "resourceGroupName": "macikgo-test-may-23",
    "resourceId": "/subscriptions/xxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxx/resourceGroups/macikgo-test-may-23/providers/Microsoft.Compute/virtualMachines/examplevmname",
    "securityProfile": { "secureBootEnabled": "false", "virtualTpmEnabled": "false" },
    "sku": "20_04-lts-gen2",
    "storageProfile": { "dataDisks": [], "osDisk": { "diskSizeGB": "30", "osType": "Linux" } },
    "subscriptionId": "xxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxx",
    "tags": "baz:bash;foo:bar",
    "version": "15.05.22",
    "vmId": "02aab8a4-74ef-476e-8182-f6d2ba4166a6",
    "vmScaleSetName": "crpteste9vflji9",
    "vmSize": "Standard_A3",
    "zone": ""
  },
  "network": {
    "interface": [ { "ipv4": { "ipAddress": [ { "privateIpAddress": "10.144.133.132", "publicIpAddress": "" } ],
                               "subnet": [ { "address": "10.144.133.128", "prefix": "26" } ] },
                     "ipv6": { "ipAddress": [] }, "macAddress": "0011AAFFBB22" } ]
  }
})";

TEST(InstanceMetadata, MicrosoftLearnSample) {
  const auto m = parseOk(kLearnSample);
  EXPECT_EQ(m.name, "examplevmname");
  EXPECT_EQ(m.computerName, "examplevmname");
  EXPECT_EQ(m.vmScaleSetName, "crpteste9vflji9");
  EXPECT_EQ(m.priority, "");
  EXPECT_EQ(m.evictionPolicy, "");
  EXPECT_EQ(m.vmSize, "Standard_A3");
  EXPECT_EQ(m.zone, "");
  EXPECT_EQ(m.location, "westus");
  EXPECT_EQ(m.osType, "Linux");
  EXPECT_EQ(m.vmId, "02aab8a4-74ef-476e-8182-f6d2ba4166a6");
  EXPECT_EQ(m.subscriptionId, "xxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxx");
  EXPECT_EQ(m.resourceGroupName, "macikgo-test-may-23");
  EXPECT_THAT(m.resourceId, HasSubstr("/virtualMachines/examplevmname"));
  EXPECT_FALSE(m.isSpot());
}

// An AKS uniform scale-set spot instance: compute.name (used in event Resources) and the node
// name (osProfile.computerName) differ.
TEST(InstanceMetadata, AksSpotScaleSetInstance) {
  const auto m = parseOk(R"({"compute":{
    "name":"aks-spot-12345678-vmss_3",
    "osProfile":{"computerName":"aks-spot-12345678-vmss000003"},
    "vmScaleSetName":"aks-spot-12345678-vmss",
    "priority":"Spot","evictionPolicy":"Delete","vmSize":"Standard_D8ds_v5","zone":"2",
    "location":"westeurope","osType":"Linux",
    "resourceId":"/subscriptions/s/resourceGroups/MC_rg_aks_westeurope/providers/Microsoft.Compute/virtualMachineScaleSets/aks-spot-12345678-vmss/virtualMachines/3"}})");
  EXPECT_EQ(m.name, "aks-spot-12345678-vmss_3");
  EXPECT_EQ(m.computerName, "aks-spot-12345678-vmss000003");
  EXPECT_EQ(m.vmScaleSetName, "aks-spot-12345678-vmss");
  EXPECT_EQ(m.evictionPolicy, "Delete");
  EXPECT_EQ(m.zone, "2");
  EXPECT_TRUE(m.isSpot());
}

TEST(InstanceMetadata, ComputeObjectAlone) {
  // GET /metadata/instance/compute answers with the compute object itself.
  const auto m = parseOk(R"({"name":"karpenter-node-abcde","vmScaleSetName":"","priority":"Regular","vmId":"v"})");
  EXPECT_EQ(m.name, "karpenter-node-abcde");
  EXPECT_EQ(m.vmScaleSetName, "");
  EXPECT_FALSE(m.isSpot());
}

TEST(InstanceMetadata, KeysInAnyCase) {
  const auto m = parseOk(
      R"({"Compute":{"Name":"vm1","OSPROFILE":{"ComputerName":"host1"},"VmScaleSetName":"ss","Priority":"spot","EvictionPolicy":"Deallocate","VMSize":"Standard_B2s","Zone":"1","Location":"eastus","ResourceId":"/r","OsType":"Linux"}})");
  EXPECT_EQ(m.name, "vm1");
  EXPECT_EQ(m.computerName, "host1");
  EXPECT_EQ(m.vmScaleSetName, "ss");
  EXPECT_EQ(m.priority, "spot");
  EXPECT_EQ(m.evictionPolicy, "Deallocate");
  EXPECT_EQ(m.vmSize, "Standard_B2s");
  EXPECT_EQ(m.zone, "1");
  EXPECT_EQ(m.location, "eastus");
  EXPECT_EQ(m.resourceId, "/r");
  EXPECT_EQ(m.osType, "Linux");
  EXPECT_TRUE(m.isSpot());
}

TEST(InstanceMetadata, MissingValuesAreEmpty) {
  const auto m = parseOk(R"({"compute":{"name":"vm1"}})");
  EXPECT_EQ(m.name, "vm1");
  EXPECT_EQ(m.computerName, "");
  EXPECT_EQ(m.priority, "");
  EXPECT_EQ(m.zone, "");
  EXPECT_FALSE(m.isSpot());
}

TEST(InstanceMetadata, WrongTypesAreEmptyWithAWarning) {
  const auto r = parseInstanceMetadata(
      R"({"compute":{"name":"vm1","zone":1,"priority":null,"vmSize":["x"],"osProfile":"host"}})");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->name, "vm1");
  EXPECT_EQ(r->zone, "");
  EXPECT_EQ(r->priority, "");
  EXPECT_EQ(r->vmSize, "");
  EXPECT_EQ(r->computerName, "");
  ASSERT_EQ(r->warnings.size(), 2u);  // zone and vmSize; null reads as missing
  EXPECT_THAT(r->warnings[0], HasSubstr("compute.vmSize is not a string but array"));
  EXPECT_THAT(r->warnings[1], HasSubstr("compute.zone is not a string but number"));
}

TEST(InstanceMetadata, AmbiguousKeyIsEmptyWithAWarning) {
  const auto r = parseInstanceMetadata(R"({"compute":{"Name":"a","NAME":"b"}})");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->name, "");
  ASSERT_EQ(r->warnings.size(), 1u);
  EXPECT_THAT(r->warnings[0], HasSubstr("ambiguous"));
}

TEST(InstanceMetadata, ExactKeyWins) {
  EXPECT_EQ(parseOk(R"({"compute":{"name":"right","NAME":"wrong"}})").name, "right");
}

TEST(InstanceMetadata, SpotPriorities) {
  InstanceMetadata m;
  for (const char* p : {"Spot", "spot", "SPOT", " Spot ", "Low"}) {
    m.priority = p;
    EXPECT_TRUE(m.isSpot()) << p;
  }
  for (const char* p : {"", "Regular", "Spotty", "Normal"}) {
    m.priority = p;
    EXPECT_FALSE(m.isSpot()) << p;
  }
}

struct BadMetadata {
  const char* name;
  std::string body;
  const char* errorContains;
};

class RefusesMetadata : public ::testing::TestWithParam<BadMetadata> {};

TEST_P(RefusesMetadata, WithAReason) {
  const auto r = parseInstanceMetadata(GetParam().body);
  EXPECT_FALSE(r.ok());
  EXPECT_THAT(r.error(), HasSubstr(GetParam().errorContains));
}

INSTANTIATE_TEST_SUITE_P(
    Malformed, RefusesMetadata,
    ::testing::Values(BadMetadata{"Empty", "", "not JSON"},
                      BadMetadata{"Truncated", R"({"compute":{"name":"vm)", "not JSON"},
                      BadMetadata{"Array", "[]", "not a JSON object but array"},
                      BadMetadata{"NoCompute", R"({"network":{}})", "no compute object"},
                      BadMetadata{"ComputeNotObject", R"({"compute":"vm1"})", "no compute object"},
                      BadMetadata{"ImdsError",
                                  R"({"error":"Bad request. api-version is invalid or was not specified in the request."})",
                                  "no compute object"},
                      BadMetadata{"TooBig", std::string(kMaxImdsBodyBytes + 1, ' '), "limit"}),
    [](const auto& p) { return std::string(p.param.name); });

}  // namespace
}  // namespace aksnode
