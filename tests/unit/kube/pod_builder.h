#pragma once
// Pod JSON as the API server returns it, built field by field for tests.
#include <boost/json.hpp>

#include <string>

namespace aksnode::testing {

class PodBuilder {
 public:
  PodBuilder(std::string ns, std::string name) {
    pod_ = {{"apiVersion", "v1"},
            {"kind", "Pod"},
            {"metadata", {{"name", name}, {"namespace", ns}, {"uid", ns + "-" + name + "-uid"}}},
            {"spec", {{"nodeName", "node-1"}, {"containers", boost::json::array{{{"name", "c"}, {"image", "i"}}}}}},
            {"status", {{"phase", "Running"}}}};
  }
  PodBuilder& uid(const std::string& u) { meta()["uid"] = u; return *this; }
  PodBuilder& phase(const std::string& p) { pod_["status"].as_object()["phase"] = p; return *this; }
  PodBuilder& controller(const std::string& kind) {
    meta()["ownerReferences"] = boost::json::array{boost::json::object{
        {"apiVersion", "apps/v1"}, {"kind", kind}, {"name", "owner"}, {"uid", "owner-uid"}, {"controller", true}}};
    return *this;
  }
  PodBuilder& mirror() {
    meta()["annotations"] = {{"kubernetes.io/config.mirror", "abc"}, {"kubernetes.io/config.source", "file"}};
    return *this;
  }
  PodBuilder& emptyDir() {
    spec()["volumes"] = boost::json::array{{{"name", "scratch"}, {"emptyDir", boost::json::object{}}}};
    return *this;
  }
  PodBuilder& grace(int seconds) { spec()["terminationGracePeriodSeconds"] = seconds; return *this; }
  PodBuilder& terminating() { meta()["deletionTimestamp"] = "2027-01-01T00:00:00Z"; return *this; }
  boost::json::value json() const { return pod_; }

 private:
  boost::json::object& meta() { return pod_["metadata"].as_object(); }
  boost::json::object& spec() { return pod_["spec"].as_object(); }
  boost::json::object pod_;
};

}  // namespace aksnode::testing
