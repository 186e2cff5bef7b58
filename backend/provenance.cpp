#include "backend/provenance.hpp"

#include <cuda_runtime.h>
#include <nccl.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <sstream>

#include "backend/communicator.hpp"
#include "sim/core/error.hpp"

namespace occult::gpu {
namespace {

bool env_is_1(const char* name) {
  const char* v = std::getenv(name);
  return v && std::string(v) == "1";
}

std::string version_string(int v, int major_div, int minor_div) {
  return std::to_string(v / major_div) + "." + std::to_string((v % major_div) / minor_div);
}

// "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  580.159.04  ..." -> "580.159.04": the
// first word made of digits and dots.
std::string kernel_driver_version() {
  std::ifstream in("/proc/driver/nvidia/version");
  std::string word;
  while (in >> word) {
    if (word.find('.') != std::string::npos && word.find_first_not_of("0123456789.") == std::string::npos)
      return word;
  }
  return "";
}

// "GPU-a49576cb-0a89-63a2-a682-9cb2568d04f5", as nvidia-smi prints it.
std::string uuid_text(const cudaUUID_t& u) {
  static const char* hex = "0123456789abcdef";
  std::string s = "GPU-";
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s += '-';
    const auto b = static_cast<unsigned char>(u.bytes[i]);
    s += hex[b >> 4];
    s += hex[b & 15];
  }
  return s;
}

}  // namespace

std::string this_command_line() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::string out;
  std::string arg;
  for (char c : all) {
    if (c != '\0') {
      arg += c;
      continue;
    }
    if (!out.empty()) out += ' ';
    out += arg.find(' ') == std::string::npos ? arg : "'" + arg + "'";
    arg.clear();
  }
  return out;
}

Provenance collect_provenance() {
  Provenance p;
  int n = 0;
  if (cudaGetDeviceCount(&n) == cudaSuccess && n > 0) {
    cudaDeviceProp prop{};
    if (cudaGetDeviceProperties(&prop, 0) == cudaSuccess) {
      p.gpu_name = prop.name;
      p.gpu_uuid = uuid_text(prop.uuid);
    }
  }
  (void)cudaGetLastError();
  p.gpu_count = n;
  int drv = 0, rt = 0, nccl = 0;
  (void)cudaDriverGetVersion(&drv);
  (void)cudaRuntimeGetVersion(&rt);
  (void)ncclGetVersion(&nccl);
  const std::string kmod = kernel_driver_version();
  p.driver = (kmod.empty() ? "" : kmod + " ") + "(CUDA " + version_string(drv, 1000, 10) + ")";
  p.cuda = version_string(rt, 1000, 10);
  p.nccl = std::to_string(nccl / 10000) + "." + std::to_string((nccl % 10000) / 100) + "." +
           std::to_string(nccl % 100);
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  char date[32];
  std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  p.date = date;
  p.command = this_command_line();
#ifdef OCCULT_COMMIT
  p.commit = OCCULT_COMMIT;
#endif
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) == 0) p.host = host;
  return p;
}

std::string link_class_from_env() {
  if (env_is_1("NCCL_P2P_DISABLE") && env_is_1("NCCL_SHM_DISABLE")) return "network";
  if (env_is_1("NCCL_P2P_DISABLE")) return "pcie";
  return "nvlink";
}

std::string nccl_env_for(const std::string& link_class) {
  if (link_class == "nvlink") return "";
  if (link_class == "pcie") return "NCCL_P2P_DISABLE=1";
  if (link_class == "network") return "NCCL_P2P_DISABLE=1 NCCL_SHM_DISABLE=1";
  throw InputError("", 0, "paths", "unknown link class '" + link_class + "' (nvlink, pcie, network)");
}

std::string link_description(const std::string& link_class) {
  const std::string env = nccl_env_for(link_class);
  return "NCCL all-to-all-v (grouped send/recv, " + std::string(nccl_mode_name(nccl_mode())) +
         " communicator) between the GPUs of one node" +
         (env.empty() ? std::string(", NVLink (default path)") : ", " + env);
}

}  // namespace occult::gpu
