// c10d from JavaScript: one default process group per process, as torch.distributed has.
//
//   distInit({ addr, port, rank, worldSize, timeoutMs, device })  TCPStore rendezvous (rank 0 serves it,
//       as torchrun's MASTER_ADDR/MASTER_PORT), then ProcessGroupGloo (ProcessGroupNCCL on a CUDA
//       libtorch built with USE_C10D_NCCL, for CUDA tensors)
//   distAllReduce(tensors, op, timeoutMs)   in place; several tensors travel as one flat buffer
//   distBroadcast(tensors, root, timeoutMs) in place, likewise coalesced
//   distAllGather(tensor, timeoutMs)        -> [worldSize tensors]
//   distBarrier(timeoutMs), distDestroy(), distInfo()
//
// Every collective waits for its Work with a timeout: a peer that died closes its sockets (gloo
// fails at once), a peer that hangs makes the wait throw after timeoutMs. Either way the JS caller
// gets an Error whose message starts with "c10d:" and names the operation, never a hang.
// The waits block the JS thread: a training step is synchronous (tensors live in scopes), and the
// timeout bounds how long.
#include "distributed.h"

#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#if defined(USE_C10D_NCCL)
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <chrono>
#include <string>
#include <vector>

namespace paperlab {
namespace {

TensorBridge g_bridge{nullptr, nullptr};

struct Group {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroup> gloo;
#if defined(USE_C10D_NCCL)
  c10::intrusive_ptr<c10d::ProcessGroup> nccl;
#endif
  int rank = 0, size = 1;
  std::string backend;
};
std::unique_ptr<Group> g_group;

[[noreturn]] void fail(Napi::Env env, const std::string& what, const std::exception& e) {
  std::string msg = e.what();
  if (auto* ce = dynamic_cast<const c10::Error*>(&e)) msg = ce->what_without_backtrace();
  throw Napi::Error::New(env, "c10d: " + what + ": " + msg);
}

Group& group(Napi::Env env, const char* what) {
  if (!g_group) throw Napi::Error::New(env, std::string("c10d: ") + what + ": no process group (call init first)");
  return *g_group;
}

std::chrono::milliseconds msArg(const Napi::Value& v, double dflt) {
  double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : dflt;
  return std::chrono::milliseconds(static_cast<int64_t>(d > 0 ? d : dflt));
}

c10d::ProcessGroup& pgFor(Group& g, const at::Tensor& t) {
#if defined(USE_C10D_NCCL)
  if (t.is_cuda() && g.nccl) return *g.nccl;
#endif
  (void)t;
  return *g.gloo;
}

void waitFor(Napi::Env env, const c10::intrusive_ptr<c10d::Work>& work, std::chrono::milliseconds timeout, const std::string& what) {
  try {
    if (!work->wait(timeout)) throw std::runtime_error("aborted");
  } catch (const std::exception& e) {
    fail(env, what, e);
  }
}

std::vector<at::Tensor> tensors(Napi::Env env, const Napi::Value& v, const char* what) {
  std::vector<at::Tensor> out;
  if (!v.IsArray()) throw Napi::TypeError::New(env, std::string("c10d: ") + what + ": expected an array of Tensors");
  auto a = v.As<Napi::Array>();
  for (uint32_t i = 0; i < a.Length(); ++i) out.push_back(g_bridge.unwrap(a.Get(i)));
  if (out.empty()) throw Napi::TypeError::New(env, std::string("c10d: ") + what + ": no tensors");
  for (auto& t : out) {
    if (!t.is_contiguous()) throw Napi::TypeError::New(env, std::string("c10d: ") + what + ": tensors must be contiguous");
    if (t.scalar_type() != out[0].scalar_type() || t.device() != out[0].device())
      throw Napi::TypeError::New(env, std::string("c10d: ") + what + ": tensors must share dtype and device");
  }
  return out;
}

// Runs `op` on one flat buffer holding every tensor (one message instead of one per tensor, as
// torch's DDP buckets and broadcast_coalesced do), then copies the results back in place.
template <typename Op>
void coalesced(std::vector<at::Tensor>& ts, Op op) {
  if (ts.size() == 1) { std::vector<at::Tensor> one{ts[0]}; op(one); return; }
  at::NoGradGuard ng;
  std::vector<at::Tensor> flat;
  for (auto& t : ts) flat.push_back(t.reshape({-1}));
  std::vector<at::Tensor> buf{at::cat(flat)};
  op(buf);
  int64_t off = 0;
  for (auto& t : ts) {
    const int64_t n = t.numel();
    t.copy_(buf[0].narrow(0, off, n).view(t.sizes()));
    off += n;
  }
}

// distInit({ addr, port, rank, worldSize, timeoutMs, device: 'default' | 'host:<addr>' | 'iface:<name>', prefix })
Napi::Value Init(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (g_group) throw Napi::Error::New(env, "c10d: init: a process group already exists in this process");
  auto o = info[0].As<Napi::Object>();
  const std::string addr = o.Get("addr").ToString().Utf8Value();
  const int port = o.Get("port").ToNumber().Int32Value();
  const int rank = o.Get("rank").ToNumber().Int32Value();
  const int size = o.Get("worldSize").ToNumber().Int32Value();
  const auto timeout = msArg(o.Get("timeoutMs"), 1800000);
  const std::string device = o.Has("device") ? o.Get("device").ToString().Utf8Value() : "default";
  const std::string prefix = o.Has("prefix") ? o.Get("prefix").ToString().Utf8Value() : "paperlab";
  if (size < 1 || rank < 0 || rank >= size) throw Napi::RangeError::New(env, "c10d: init: need 0 <= rank < worldSize");
  if (port < 1 || port > 65535) throw Napi::RangeError::New(env, "c10d: init: port must be in 1..65535");
  auto g = std::make_unique<Group>();
  g->rank = rank;
  g->size = size;
  try {
    c10d::TCPStoreOptions so;
    so.port = static_cast<std::uint16_t>(port);
    so.isServer = rank == 0;
    so.numWorkers = static_cast<std::size_t>(size);
    so.waitWorkers = true;
    so.timeout = timeout;
    auto tcp = c10::make_intrusive<c10d::TCPStore>(addr, so);
    g->store = c10::make_intrusive<c10d::PrefixStore>(prefix, tcp);
  } catch (const std::exception& e) {
    fail(env, "rendezvous at " + addr + ":" + std::to_string(port) + " (rank " + std::to_string(rank) + " of " + std::to_string(size) + ")", e);
  }
  try {
    auto opts = c10d::ProcessGroupGloo::Options::create(timeout);
    if (device.rfind("iface:", 0) == 0) opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(device.substr(6)));
    else if (device.rfind("host:", 0) == 0) opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(device.substr(5)));
    else opts->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    opts->threads = 2;
    g->gloo = c10::make_intrusive<c10d::ProcessGroupGloo>(
        c10::make_intrusive<c10d::PrefixStore>("gloo", g->store), rank, size, opts);
    g->backend = "gloo";
#if defined(USE_C10D_NCCL)
    if (torch::cuda::is_available()) {
      auto nopts = c10d::ProcessGroupNCCL::Options::create();
      nopts->timeout = timeout;
      g->nccl = c10::make_intrusive<c10d::ProcessGroupNCCL>(c10::make_intrusive<c10d::PrefixStore>("nccl", g->store), rank, size, nopts);
      g->backend = "nccl+gloo";
    }
#endif
  } catch (const std::exception& e) {
    fail(env, "creating the process group (rank " + std::to_string(rank) + " of " + std::to_string(size) + ")", e);
  }
  g_group = std::move(g);
  return env.Undefined();
}

Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!g_group) return env.Null();
  Napi::Object o = Napi::Object::New(env);
  o.Set("rank", g_group->rank);
  o.Set("worldSize", g_group->size);
  o.Set("backend", g_group->backend);
#if defined(USE_C10D_NCCL)
  o.Set("nccl", true);
#else
  o.Set("nccl", false);
#endif
  return o;
}

// distAllReduce(tensors, 'sum' | 'avg' | 'max' | 'min', timeoutMs)
Napi::Value AllReduce(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Group& g = group(env, "allReduce");
  auto ts = tensors(env, info[0], "allReduce");
  const std::string op = info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : "sum";
  c10d::AllreduceOptions ao;
  if (op == "sum" || op == "avg") ao.reduceOp = c10d::ReduceOp::SUM;  // gloo has no AVG: SUM, then / worldSize
  else if (op == "max") ao.reduceOp = c10d::ReduceOp::MAX;
  else if (op == "min") ao.reduceOp = c10d::ReduceOp::MIN;
  else throw Napi::TypeError::New(env, "c10d: allReduce: op must be sum, avg, max or min");
  const auto timeout = msArg(info[2], 1800000);
  ao.timeout = timeout;
  coalesced(ts, [&](std::vector<at::Tensor>& buf) {
    c10::intrusive_ptr<c10d::Work> w;
    try { w = pgFor(g, buf[0]).allreduce(buf, ao); } catch (const std::exception& e) { fail(env, "allReduce", e); }
    waitFor(env, w, timeout, "allReduce (rank " + std::to_string(g.rank) + " of " + std::to_string(g.size) + ")");
    if (op == "avg") { at::NoGradGuard ng; buf[0].div_(g.size); }
  });
  return env.Undefined();
}

// distBroadcast(tensors, root, timeoutMs)
Napi::Value Broadcast(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Group& g = group(env, "broadcast");
  auto ts = tensors(env, info[0], "broadcast");
  c10d::BroadcastOptions bo;
  bo.rootRank = info[1].ToNumber().Int32Value();
  if (bo.rootRank < 0 || bo.rootRank >= g.size) throw Napi::RangeError::New(env, "c10d: broadcast: root out of range");
  const auto timeout = msArg(info[2], 1800000);
  bo.timeout = timeout;
  coalesced(ts, [&](std::vector<at::Tensor>& buf) {
    c10::intrusive_ptr<c10d::Work> w;
    try { w = pgFor(g, buf[0]).broadcast(buf, bo); } catch (const std::exception& e) { fail(env, "broadcast", e); }
    waitFor(env, w, timeout, "broadcast (rank " + std::to_string(g.rank) + " of " + std::to_string(g.size) + ")");
  });
  return env.Undefined();
}

// distAllGather(tensor, timeoutMs) -> Tensor[worldSize]
Napi::Value AllGather(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Group& g = group(env, "allGather");
  at::Tensor t = g_bridge.unwrap(info[0]).contiguous();
  const auto timeout = msArg(info[1], 1800000);
  std::vector<std::vector<at::Tensor>> outs(1);
  for (int i = 0; i < g.size; ++i) outs[0].push_back(at::empty_like(t));
  std::vector<at::Tensor> ins{t};
  c10::intrusive_ptr<c10d::Work> w;
  c10d::AllgatherOptions go;
  go.timeout = timeout;
  try { w = pgFor(g, t).allgather(outs, ins, go); } catch (const std::exception& e) { fail(env, "allGather", e); }
  waitFor(env, w, timeout, "allGather (rank " + std::to_string(g.rank) + " of " + std::to_string(g.size) + ")");
  Napi::Array a = Napi::Array::New(env, outs[0].size());
  for (size_t i = 0; i < outs[0].size(); ++i) a.Set(static_cast<uint32_t>(i), g_bridge.wrap(env, outs[0][i]));
  return a;
}

Napi::Value Barrier(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Group& g = group(env, "barrier");
  const auto timeout = msArg(info[0], 1800000);
  c10d::BarrierOptions bo;
  bo.timeout = timeout;
  c10::intrusive_ptr<c10d::Work> w;
  try { w = g.gloo->barrier(bo); } catch (const std::exception& e) { fail(env, "barrier", e); }
  waitFor(env, w, timeout, "barrier (rank " + std::to_string(g.rank) + " of " + std::to_string(g.size) + ")");
  return env.Undefined();
}

Napi::Value Destroy(const Napi::CallbackInfo& info) {
  g_group.reset();
  return info.Env().Undefined();
}

}  // namespace

void InitDistributed(Napi::Env env, Napi::Object exports, TensorBridge bridge) {
  g_bridge = bridge;
  exports.Set("distInit", Napi::Function::New(env, Init));
  exports.Set("distInfo", Napi::Function::New(env, Info));
  exports.Set("distAllReduce", Napi::Function::New(env, AllReduce));
  exports.Set("distBroadcast", Napi::Function::New(env, Broadcast));
  exports.Set("distAllGather", Napi::Function::New(env, AllGather));
  exports.Set("distBarrier", Napi::Function::New(env, Barrier));
  exports.Set("distDestroy", Napi::Function::New(env, Destroy));
}

}  // namespace paperlab
