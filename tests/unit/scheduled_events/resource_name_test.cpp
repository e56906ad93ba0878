// Own-VM identity: where the name comes from, providerID forms, and exact matching.
#include "probes/scheduled_events/resource_name.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace aksnode {
namespace {

using ::testing::HasSubstr;

constexpr const char* kVmssProviderId =
    "azure:///subscriptions/0000-1111/resourceGroups/MC_rg_aks_westeurope/providers/Microsoft.Compute/"
    "virtualMachineScaleSets/aks-pool-12345678-vmss/virtualMachines/3";
constexpr const char* kVmProviderId =
    "azure:///subscriptions/0000-1111/resourceGroups/MC_rg_aks_westeurope/providers/Microsoft.Compute/"
    "virtualMachines/aks-default-x7k2p";

// --- resolveResourceName ----------------------------------------------------------------------

TEST(ResolveResourceName, ConfiguredWins) {
  const auto r = resolveResourceName("my-vm", "aks-pool-12345678-vmss_3", kVmssProviderId);
  EXPECT_EQ(r.name, "my-vm");
  EXPECT_EQ(r.source, "config");
  EXPECT_TRUE(r.ok());
  EXPECT_THAT(r.warning, HasSubstr("differs from IMDS compute.name"));
}

TEST(ResolveResourceName, ConfiguredAgreeingIsSilent) {
  const auto r = resolveResourceName("AKS-POOL-12345678-VMSS_3", "aks-pool-12345678-vmss_3", kVmssProviderId);
  EXPECT_EQ(r.source, "config");
  EXPECT_EQ(r.warning, "");
}

TEST(ResolveResourceName, ImdsComputeNameNext) {
  const auto r = resolveResourceName("", "aks-pool-12345678-vmss_3", kVmssProviderId);
  EXPECT_EQ(r.name, "aks-pool-12345678-vmss_3");
  EXPECT_EQ(r.source, "imds");
  EXPECT_EQ(r.warning, "");
}

TEST(ResolveResourceName, ImdsDisagreeingWithProviderIdWarns) {
  const auto r = resolveResourceName("", "aks-pool-12345678-vmss_4", kVmssProviderId);
  EXPECT_EQ(r.name, "aks-pool-12345678-vmss_4");
  EXPECT_THAT(r.warning, HasSubstr("aks-pool-12345678-vmss_3"));
}

TEST(ResolveResourceName, ProviderIdLast) {
  auto r = resolveResourceName("", "", kVmssProviderId);
  EXPECT_EQ(r.name, "aks-pool-12345678-vmss_3");
  EXPECT_EQ(r.source, "providerID");
  r = resolveResourceName("  ", " \t", kVmProviderId);  // blanks count as unset
  EXPECT_EQ(r.name, "aks-default-x7k2p");
  EXPECT_EQ(r.source, "providerID");
}

TEST(ResolveResourceName, NothingUsableSaysWhy) {
  auto r = resolveResourceName("", "", "");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.source, "");
  EXPECT_THAT(r.reason, HasSubstr("no spec.providerID"));
  r = resolveResourceName("", "", "kind://docker/kind/kind-worker");
  EXPECT_FALSE(r.ok());
  EXPECT_THAT(r.reason, HasSubstr("not an Azure provider ID"));
}

TEST(ResolveResourceName, TrimsSurroundingWhitespace) {
  EXPECT_EQ(resolveResourceName(" vm1\n", "", "").name, "vm1");
  EXPECT_EQ(resolveResourceName("", " vm2 ", "").name, "vm2");
}

// --- resourceNameFromProviderId ---------------------------------------------------------------

struct GoodProviderId {
  const char* providerId;
  const char* name;
};

class DerivesName : public ::testing::TestWithParam<GoodProviderId> {};

TEST_P(DerivesName, FromProviderId) {
  const auto r = resourceNameFromProviderId(GetParam().providerId);
  EXPECT_EQ(r.name, GetParam().name) << GetParam().providerId << " : " << r.reason;
  EXPECT_EQ(r.reason, "");
}

INSTANTIATE_TEST_SUITE_P(
    Forms, DerivesName,
    ::testing::Values(
        GoodProviderId{kVmssProviderId, "aks-pool-12345678-vmss_3"},
        GoodProviderId{kVmProviderId, "aks-default-x7k2p"},
        // Path segments in other cases (seen: resourcegroups, microsoft.compute).
        GoodProviderId{"azure:///subscriptions/s/resourcegroups/rg/providers/microsoft.compute/"
                       "virtualmachinescalesets/SS/virtualmachines/17",
                       "SS_17"},
        GoodProviderId{"AZURE:///SUBSCRIPTIONS/s/RESOURCEGROUPS/rg/PROVIDERS/MICROSOFT.COMPUTE/VIRTUALMACHINES/Vm-1",
                       "Vm-1"},
        GoodProviderId{"azure:///subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1/",
                       "vm1"},  // one trailing slash
        GoodProviderId{"  azure:///subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1 ",
                       "vm1"},
        GoodProviderId{"azure:///subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/"
                       "virtualMachineScaleSets/ss/virtualMachines/0",
                       "ss_0"}));

struct BadProviderId {
  const char* providerId;
  const char* reasonContains;
};

class RefusesProviderId : public ::testing::TestWithParam<BadProviderId> {};

TEST_P(RefusesProviderId, WithAReason) {
  const auto r = resourceNameFromProviderId(GetParam().providerId);
  EXPECT_EQ(r.name, "") << GetParam().providerId;
  EXPECT_THAT(r.reason, HasSubstr(GetParam().reasonContains)) << GetParam().providerId;
}

INSTANTIATE_TEST_SUITE_P(
    Garbage, RefusesProviderId,
    ::testing::Values(
        BadProviderId{"", "no spec.providerID"},
        BadProviderId{"aws:///us-east-1a/i-0123456789abcdef0", "not an Azure provider ID"},
        BadProviderId{"kind://docker/kind/kind-worker", "not an Azure provider ID"},
        BadProviderId{"azure:", "not an Azure provider ID"},
        BadProviderId{"azure://", "no absolute path"},
        BadProviderId{"azure://subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1",
                      "no absolute path"},
        BadProviderId{"azure:////subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1",
                      "empty path segment"},
        BadProviderId{"azure:///subscriptions/s/resourceGroups//providers/Microsoft.Compute/virtualMachines/vm1",
                      "empty path segment"},
        BadProviderId{"azure:///subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/",
                      "neither"},
        BadProviderId{"azure:///subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1//",
                      "empty path segment"},
        BadProviderId{"azure:///subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualMachines/vm1",
                      "is not a Microsoft.Compute resource"},
        BadProviderId{"azure:///subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/disks/d1",
                      "neither"},
        BadProviderId{"azure:///subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/"
                      "virtualMachineScaleSets/ss/virtualMachines/abc",
                      "not a number"},
        BadProviderId{"azure:///subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/"
                      "virtualMachineScaleSets/ss/virtualMachines/-1",
                      "not a number"},
        BadProviderId{"azure:///subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/"
                      "virtualMachineScaleSets/ss",
                      "neither"},
        BadProviderId{"azure:///subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/"
                      "virtualMachineScaleSets/ss/virtualMachines/3/networkInterfaces/nic",
                      "neither"},
        BadProviderId{"azure:///subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1?x=1",
                      "query"},
        BadProviderId{"azure:///resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1",
                      "is not a Microsoft.Compute resource"}));

// --- matching ----------------------------------------------------------------------------------

ScheduledEvent eventFor(std::vector<std::string> resources) {
  ScheduledEvent e;
  e.eventId = "id";
  e.type = EventType::Preempt;
  e.resources = std::move(resources);
  return e;
}

TEST(EventTargetsVm, ExactNameIgnoringCase) {
  EXPECT_TRUE(eventTargetsVm(eventFor({"aks-pool-12345678-vmss_3"}), "aks-pool-12345678-vmss_3"));
  EXPECT_TRUE(eventTargetsVm(eventFor({"AKS-POOL-12345678-VMSS_3"}), "aks-pool-12345678-vmss_3"));
  EXPECT_TRUE(eventTargetsVm(eventFor({"other", "aks-pool-12345678-vmss_3"}), "aks-pool-12345678-vmss_3"));
}

TEST(EventTargetsVm, NeverASiblingOrASubstring) {
  const std::string me = "aks-pool-12345678-vmss_3";
  EXPECT_FALSE(eventTargetsVm(eventFor({"aks-pool-12345678-vmss_31"}), me));
  EXPECT_FALSE(eventTargetsVm(eventFor({"aks-pool-12345678-vmss_30", "aks-pool-12345678-vmss_13"}), me));
  EXPECT_FALSE(eventTargetsVm(eventFor({"aks-pool-12345678-vmss"}), me));
  EXPECT_FALSE(eventTargetsVm(eventFor({"aks-pool-12345678-vmss_3 "}), me));
  EXPECT_FALSE(eventTargetsVm(eventFor({"xaks-pool-12345678-vmss_3"}), me));
  EXPECT_FALSE(eventTargetsVm(eventFor({"aks-pool-12345678-vmss000003"}), me));  // node name, not VM name
  // ...and the other way round: I am _31, the event is for _3.
  EXPECT_FALSE(eventTargetsVm(eventFor({"aks-pool-12345678-vmss_3"}), "aks-pool-12345678-vmss_31"));
}

TEST(EventTargetsVm, EmptyNamesMatchNothing) {
  EXPECT_FALSE(eventTargetsVm(eventFor({""}), ""));
  EXPECT_FALSE(eventTargetsVm(eventFor({"vm"}), ""));
  EXPECT_FALSE(eventTargetsVm(eventFor({}), "vm"));
  EXPECT_FALSE(eventTargetsVm(eventFor({""}), "vm"));
}

TEST(EventTargetsOnlyVm, TheAcknowledgementGuard) {
  const std::string me = "vm-spot";
  EXPECT_TRUE(eventTargetsOnlyVm(eventFor({"vm-spot"}), me));
  EXPECT_TRUE(eventTargetsOnlyVm(eventFor({"VM-SPOT"}), me));
  EXPECT_TRUE(eventTargetsOnlyVm(eventFor({"vm-spot", "vm-spot"}), me));
  EXPECT_FALSE(eventTargetsOnlyVm(eventFor({"vm-spot", "vm-other"}), me));  // approving would move vm-other too
  EXPECT_FALSE(eventTargetsOnlyVm(eventFor({"vm-other"}), me));
  EXPECT_FALSE(eventTargetsOnlyVm(eventFor({"vm-spot", ""}), me));
  EXPECT_FALSE(eventTargetsOnlyVm(eventFor({}), me));
  EXPECT_FALSE(eventTargetsOnlyVm(eventFor({"vm-spot"}), ""));
  // Microsoft Learn's live-migration sample: one event for WestNO_0 and WestNO_1.
  EXPECT_TRUE(eventTargetsVm(eventFor({"WestNO_0", "WestNO_1"}), "WestNO_1"));
  EXPECT_FALSE(eventTargetsOnlyVm(eventFor({"WestNO_0", "WestNO_1"}), "WestNO_1"));
}

TEST(SameResourceName, WholeNamesOnly) {
  EXPECT_TRUE(sameResourceName("a_1", "A_1"));
  EXPECT_FALSE(sameResourceName("a_1", "a_10"));
  EXPECT_FALSE(sameResourceName("", ""));
}

}  // namespace
}  // namespace aksnode
