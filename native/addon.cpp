// paperlab_torch: a small, generic N-API addon over libtorch.
//
// The TypeScript side (src/core/torch/) carries the API. This file only offers:
//   - tensor slots: every at::Tensor JS holds lives in a slot table; JS holds its id, a small
//     integer (from/to typed arrays, dtype, shape, grad, free, escape: see "tensor slots")
//   - op(name, overload) -> handle, call(handle, ...args): any aten operator, boxed through the
//     dispatcher (so autograd records it), with JS arguments converted by the operator's schema
//     (tensors passed and returned as ids, decided per op from the schema: opInfo)
//   - autograd: backward, grad (with create_graph for double backward), grad mode
//   - scopes are the facade's (src/core/torch/scopes.ts): it frees a scope's ids in one freeSlots()
//   - runtime: threads, seed and generator state, version, live tensor count
// Every C++ exception is caught at the boundary and becomes a JS Error naming the op.

#include <napi.h>
#include <v8.h>  // toTypedArray's buffers over cached blocks (TToArray)
#include "distributed.h"
#include "blas.h"
#include <torch/torch.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/cuda.h>
#include <torch/version.h>
#include <ATen/autocast_mode.h>
#include <dlfcn.h>
#include <link.h>
#include <malloc.h>
#include <sys/mman.h>
#include <signal.h>
#include <unistd.h>
#include <atomic>

#include <c10/core/CPUAllocator.h>
#include <c10/core/impl/alloc_cpu.h>
#include <cstring>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <string>
#include <vector>

// A CUDA build (native/find-libtorch.cjs found a PyTorch with CUDA and the CUDA headers) reads the
// CUDA caching allocator's counters; every other CUDA call below goes through libtorch's
// device-generic API (torch::cuda, c10::Device, the default generators), so this file compiles
// unchanged against a CPU-only libtorch such as Debian's.
#ifdef PAPERLAB_CUDA_HEADERS
#include <c10/cuda/CUDACachingAllocator.h>
#endif
#define PAPERLAB_TORCH_AT_LEAST(maj, min) (TORCH_VERSION_MAJOR > (maj) || (TORCH_VERSION_MAJOR == (maj) && TORCH_VERSION_MINOR >= (min)))
#if PAPERLAB_TORCH_AT_LEAST(2, 3)
#define PAPERLAB_ALLOCATE_CONST
#else
#define PAPERLAB_ALLOCATE_CONST const
#endif

namespace {

// ---------------------------------------------------------------- device errors
// libtorch's "Expected all tensors to be on the same device, but found at least two devices, cuda:0
// and cpu!" becomes an instance of the class the TypeScript side registers (a PaperlabError that
// names both devices); only on the error path, so the op-call path stays as it was.
Napi::FunctionReference g_deviceErrorCtor;
[[noreturn]] void throwOpError(Napi::Env env, const std::string& msg) {
  if (!g_deviceErrorCtor.IsEmpty() && msg.find("same device") != std::string::npos)
    throw Napi::Error(env, g_deviceErrorCtor.New({Napi::String::New(env, msg)}));
  throw Napi::Error::New(env, msg);
}

// ---------------------------------------------------------------- dtype names
struct DtypeName { const char* name; c10::ScalarType type; };
const DtypeName kDtypes[] = {
    {"float32", c10::ScalarType::Float}, {"float64", c10::ScalarType::Double},
    {"int64", c10::ScalarType::Long},    {"int32", c10::ScalarType::Int},
    {"uint8", c10::ScalarType::Byte},    {"bool", c10::ScalarType::Bool},
    {"float16", c10::ScalarType::Half},  {"bfloat16", c10::ScalarType::BFloat16},
    {"int16", c10::ScalarType::Short},   {"int8", c10::ScalarType::Char},
};

const char* dtypeName(c10::ScalarType t) {
  for (const auto& d : kDtypes) if (d.type == t) return d.name;
  return "unknown";
}

bool parseDtype(const std::string& s, c10::ScalarType* out) {
  for (const auto& d : kDtypes) if (s == d.name) { *out = d.type; return true; }
  return false;
}

// ---------------------------------------------------------------- CPU allocator
// A caching allocator for large CPU blocks, installed over libtorch's default. Why: with glibc,
// large tensors freed out of order fragment the heap (aligned allocations cannot reuse the freed
// chunks) and RSS grows without bound; a fixed mmap threshold bounds RSS but then every large op
// pays mmap + page faults (3.5x slower on a 400k-element add). Caching freed blocks by size class
// gives both: bounded memory and no page faults on reuse. Blocks under 64 bytes go to malloc.
//
// The floor was 128 KiB (the mmap threshold) until issue #26 item 5: blocks between 4 and 128 KiB
// then came from glibc's heap through posix_memalign(64, n), which cannot reuse a freed hole of
// exactly its size (it asks for n + 64 + 32 bytes), so one small block still alive next to each
// freed tensor (a wrapper waiting for its finalizer, a tensor left to the GC) made the heap grow
// by about a tensor per step. Measured on the 64,000-byte tensors of `reproducibility measure`
// (10,000 scoped steps, one 8-byte tensor per step left to the GC): heap 315 MB, 261 MB of it free
// holes, with the 128 KiB floor; 64 MB with this one (and 0.33 → 0.19 ms CPU a step). The same
// loop with malloc'd 16-byte alignment (LD_PRELOAD shim) or with 160 KB tensors (cached) was flat.
//
// The floor went from 4 KiB to 64 bytes in issue #27 (item 6): a small op's output (a [256, 1]
// float64 difference, 2 KB) cost 2.6 µs against PyTorch's 1.2 µs, the difference being glibc's
// posix_memalign (which never takes its per-thread cache) after a scope's burst of frees; cached,
// 1.1 µs. Below 64 bytes (one-element tensors) the drip below keeps malloc's rhythm instead.
class CachingCpuAllocator final : public c10::Allocator {
 public:
  static constexpr size_t kMinDefault = 64;
  size_t kMin = kMinDefault;
  mutable std::mutex mu;
  mutable std::unordered_map<size_t, std::vector<void*>> pool;  // size class -> free blocks
  mutable std::unordered_map<void*, size_t> live;               // large block -> size class
  mutable size_t cached = 0;
  size_t cap;
  explicit CachingCpuAllocator(size_t capBytes) : cap(capBytes) {}
  static CachingCpuAllocator* self;

  // Size classes: 8 per power of two (waste <= 12.5%).
  size_t classOf(size_t n) const {
    size_t p = kMin;
    while (p < n) p <<= 1;
    size_t step = p / 8;
    return (n + step - 1) / step * step;
  }

  // Blocks of kMapMin bytes and more are mappings of their own, whatever malloc's mmap threshold:
  // given back to the OS when freed past the cap or by release(), never holes in glibc's heap (the
  // RSS growth engine.md warns of). So malloc's threshold can stay high for everything else
  // (InitAll): OpenBLAS's per-call buffers, V8's array buffers.
  static constexpr size_t kMapMin = size_t(128) << 10;
  static void* fresh(size_t sz) {
    if (sz < kMapMin) return c10::alloc_cpu(sz);
    void* p = mmap(nullptr, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw c10::Error({__func__, __FILE__, static_cast<uint32_t>(__LINE__)}, "paperlab CPU allocator: out of memory (" + std::to_string(sz) + " bytes)");
    return p;
  }
  static void drop(void* p, size_t sz) {
    if (sz < kMapMin) c10::free_cpu(p);
    else munmap(p, sz);
  }

  // One deleter for every block (libtorch's raw_deallocate needs a single raw deleter).
  static void deletePtr(void* ptr) {
    CachingCpuAllocator* a = self;
    size_t sz = 0;
    {
      std::lock_guard<std::mutex> g(a->mu);
      auto it = a->live.find(ptr);
      if (it != a->live.end()) {
        sz = it->second;
        a->live.erase(it);
        if (a->cached + sz <= a->cap) {
          a->pool[sz].push_back(ptr);
          a->cached += sz;
          return;
        }
      }
    }
    if (sz) drop(ptr, sz);
    else c10::free_cpu(ptr);
  }

  // (c10::Allocator::allocate lost its const in PyTorch 2.3)
  c10::DataPtr allocate(size_t n) PAPERLAB_ALLOCATE_CONST override {
    if (n < kMin) {
      void* p = c10::alloc_cpu(n);
      return {p, p, &CachingCpuAllocator::deletePtr, c10::Device(c10::DeviceType::CPU)};
    }
    const size_t sz = classOf(n);
    void* p = nullptr;
    {
      std::lock_guard<std::mutex> g(mu);
      auto it = pool.find(sz);
      if (it != pool.end() && !it->second.empty()) {
        p = it->second.back();
        it->second.pop_back();
        cached -= sz;
        live[p] = sz;
        return {p, p, &CachingCpuAllocator::deletePtr, c10::Device(c10::DeviceType::CPU)};
      }
    }
    p = fresh(sz);
    {
      std::lock_guard<std::mutex> g(mu);
      live[p] = sz;
    }
    return {p, p, &CachingCpuAllocator::deletePtr, c10::Device(c10::DeviceType::CPU)};
  }
  c10::DeleterFnPtr raw_deleter() const override { return &CachingCpuAllocator::deletePtr; }
  // Required by newer libtorch (2.3+); harmless before.
  void copy_data(void* dest, const void* src, std::size_t count) const { std::memcpy(dest, src, count); }

  size_t release() const {
    std::lock_guard<std::mutex> g(mu);
    size_t freed = cached;
    for (auto& kv : pool) for (void* p : kv.second) drop(p, kv.first);
    pool.clear();
    cached = 0;
    return freed;
  }
};
CachingCpuAllocator* CachingCpuAllocator::self = nullptr;
CachingCpuAllocator* g_alloc = nullptr;

// ---------------------------------------------------------------- external memory
// Tell V8 about native tensor memory so GC keeps pace, but in batches: a call per tensor costs
// more than a small op.
int64_t g_extPending = 0;
void reportExternal(napi_env env, int64_t delta) {
  g_extPending += delta;
  if (g_extPending > (1 << 20) || g_extPending < -(1 << 20)) {
    int64_t out;
    napi_adjust_external_memory(env, g_extPending, &out);
    g_extPending = 0;
  }
}

// ---------------------------------------------------------------- tensor slots (issue #27 item 6)
// A tensor lives in a slot of this table; JS holds only the slot's id, a small integer (a Smi), in a
// plain JS object made by the facade (src/core/torch/tensor.ts), which also keeps the scopes and a
// FinalizationRegistry for tensors that escape every scope. Why not an napi_wrap per tensor, as
// before: creating and destroying the wrapped JS object (finalizer reference, type tag, eager
// napi_remove_wrap) cost ~1.3 µs per op, twice the op itself (a 1-element add: 0.58 µs in C++).
// An id is (generation << kSlotBits) | slot: a freed slot bumps its generation, so an id used after
// its tensor was freed is refused (the facade also marks its object disposed: id -1).
constexpr int kSlotBits = 22;
constexpr int32_t kSlotMask = (1 << kSlotBits) - 1;
constexpr int32_t kGenMask = (1 << (31 - kSlotBits)) - 1;
// A tensor that outlives every scope gets a finalizer on its JS object (escape()), which frees the
// slot once the GC takes the object; dispose() first detaches it (esc->id = -1). Why not a JS
// FinalizationRegistry: V8 clears its weak cells only in full mark-compact collections, so in a
// loop leaving one-element tensors to the GC, 100,000+ waited at a time (RSS +232 MB over 300,000
// steps, against +3.5 MB with this finalizer, which the scavenger already handles).
struct Escapee { int32_t id; };
struct Slot {
  at::Tensor t;
  int32_t gen = 0;
  int64_t extBytes = 0;  // told to V8 as external memory: only while the tensor has escaped
  Escapee* esc = nullptr;
};
std::vector<Slot> g_slots;
std::vector<int32_t> g_freeSlots;
int64_t g_live = 0;
constexpr const char* kDisposed = "Tensor was disposed (use it before its scope ends, or keep() it)";

// Small tensors freed at a scope's end drip out instead of all at once (issue #27 item 6). A
// scope of 1,000 one-element results freed in one burst overflows glibc's per-thread cache of small
// blocks (7 a size) and sends the rest to the bins, whose consolidation the next mallocs pay; PyTorch
// frees each temporary as soon as Python drops it, so its mallocs find the block just freed. So a
// freed tensor that owns little (storage <= kDripBytes, no autograd graph, sole owner) waits here,
// and each new tensor first frees one waiting one: the same free-then-malloc rhythm (two per new one
// overfilled the cache again: malloc_consolidate stayed at 2.4 % of the profile). At most
// 2,048 wait (~1 MB); memoryStats() and emptyCache() free them all first.
size_t g_dripMax = 2048;  // PAPERLAB_DRIP=0 turns it off (to measure it)
constexpr size_t kDripBytes = 256;
std::vector<at::Tensor> g_drip;
void dripFlush() { g_drip.clear(); }
bool dripTake(at::Tensor& t) {
  if (g_drip.size() >= g_dripMax || !t.defined() || t.use_count() != 1 || t.requires_grad() || t.grad_fn()) return false;
  const auto& st = t.storage();
  if (!st || st.use_count() != 1 || st.nbytes() > kDripBytes) return false;
  g_drip.push_back(std::move(t));
  return true;
}

int32_t slotNew(napi_env env, at::Tensor x) {
  if (!g_drip.empty()) g_drip.pop_back();
  int32_t s;
  if (!g_freeSlots.empty()) { s = g_freeSlots.back(); g_freeSlots.pop_back(); }
  else {
    if (g_slots.size() > static_cast<size_t>(kSlotMask)) throw Napi::Error::New(env, "too many live tensors (4,194,304): dispose some");
    s = static_cast<int32_t>(g_slots.size());
    g_slots.emplace_back();
  }
  Slot& sl = g_slots[s];
  sl.t = std::move(x);
  ++g_live;
  return (sl.gen << kSlotBits) | s;
}
// The slot of a live id, or null.
Slot* slotOf(int32_t id) {
  if (id < 0) return nullptr;
  const int32_t s = id & kSlotMask;
  if (static_cast<size_t>(s) >= g_slots.size()) return nullptr;
  Slot& sl = g_slots[s];
  if (sl.gen != (id >> kSlotBits) || !sl.t.defined()) return nullptr;
  return &sl;
}
bool slotFree(napi_env env, int32_t id) {
  Slot* sl = slotOf(id);
  if (!sl) return false;
  if (!dripTake(sl->t)) sl->t = at::Tensor();
  if (sl->esc) { sl->esc->id = -1; sl->esc = nullptr; }
  sl->gen = (sl->gen + 1) & kGenMask;
  if (sl->extBytes) { reportExternal(env, -sl->extBytes); sl->extBytes = 0; }
  g_freeSlots.push_back(id & kSlotMask);
  --g_live;
  return true;
}
int32_t idOf(napi_env env, napi_value v) {
  int32_t id = -1;
  if (napi_get_value_int32(env, v, &id) != napi_ok) throw Napi::TypeError::New(env, "expected a tensor id");
  return id;
}
at::Tensor& tensorOf(napi_env env, napi_value v) {
  Slot* sl = slotOf(idOf(env, v));
  if (!sl) throw Napi::Error::New(env, kDisposed);
  return sl->t;
}
napi_value idValue(napi_env env, at::Tensor x) {
  if (!x.defined()) { napi_value n; napi_get_null(env, &n); return n; }
  napi_value r;
  napi_create_int32(env, slotNew(env, std::move(x)), &r);
  return r;
}

// The facade's function making a JS Tensor of an id (setTensorFactory): for the rare returns that
// hold tensors among other values (a generic op result), so JS need not walk them.
Napi::FunctionReference g_tensorFactory;
Napi::Value jsTensor(Napi::Env env, at::Tensor x) {
  napi_value id = idValue(env, std::move(x));
  if (g_tensorFactory.IsEmpty()) return Napi::Value(env, id);
  return g_tensorFactory.Call({Napi::Value(env, id)});
}

// ---- slot functions: free, and the tensor's properties by id
// freeSlots(Int32Array, count): frees ids (a scope's end), skipping ids already freed.
Napi::Value FreeSlots(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  napi_typedarray_type type;
  size_t len = 0;
  void* data = nullptr;
  if (napi_get_typedarray_info(env, info[0], &type, &len, &data, nullptr, nullptr) != napi_ok || type != napi_int32_array)
    throw Napi::TypeError::New(env, "freeSlots: expected an Int32Array");
  size_t n = std::min(len, static_cast<size_t>(info[1].As<Napi::Number>().Int64Value()));
  const int32_t* ids = static_cast<const int32_t*>(data);
  double freed = 0;
  // Newest first, the reverse of how they were made (as a stack of temporaries is freed).
  for (size_t i = n; i-- > 0;) freed += slotFree(env, ids[i]) ? 1 : 0;
  return Napi::Number::New(env, freed);
}
void escapeeFinalize(napi_env env, void* data, void*) {
  auto* e = static_cast<Escapee*>(data);
  if (Slot* sl = slotOf(e->id); sl && sl->esc == e) slotFree(env, e->id);
  delete e;
}
// escape(object, id): the GC frees the tensor with its JS object (unless free() does first).
Napi::Value Escape(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  Slot* sl = slotOf(idOf(env, info[1]));
  if (!sl || sl->esc) return info.Env().Undefined();
  auto* e = new Escapee{idOf(env, info[1])};
  if (napi_add_finalizer(env, info[0], e, escapeeFinalize, nullptr, nullptr) != napi_ok) { delete e; throw Napi::Error::New(env, "escape: cannot add a finalizer"); }
  sl->esc = e;
  // Only an escaped tensor's bytes are told to V8: the GC can free it, so its size should pace the
  // GC. A scoped tensor is freed by its scope's end whatever the GC does; reporting those (views
  // counted at full size) made V8 see each step's temporaries as external-memory growth and run a
  // Mark-Compact "external memory pressure" GC per action forward, 2–60 ms each
  // (test/core/gc-pressure.test.ts).
  sl->extBytes = static_cast<int64_t>(sl->t.numel()) * static_cast<int64_t>(sl->t.element_size());
  if (sl->extBytes) reportExternal(env, sl->extBytes);
  return info.Env().Undefined();
}
Napi::Value Free(const Napi::CallbackInfo& info) {
  int32_t id = -1;
  napi_get_value_int32(info.Env(), info[0], &id);
  return Napi::Boolean::New(info.Env(), slotFree(info.Env(), id));
}
Napi::Value TDtype(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), dtypeName(tensorOf(info.Env(), info[0]).scalar_type()));
}
Napi::Value TShape(const Napi::CallbackInfo& info) {
  const auto& x = tensorOf(info.Env(), info[0]);
  Napi::Array a = Napi::Array::New(info.Env(), x.dim());
  for (int64_t i = 0; i < x.dim(); ++i) a.Set(static_cast<uint32_t>(i), Napi::Number::New(info.Env(), static_cast<double>(x.size(i))));
  return a;
}
Napi::Value TNdim(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(tensorOf(info.Env(), info[0]).dim())); }
Napi::Value TNumel(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(tensorOf(info.Env(), info[0]).numel())); }
Napi::Value TDevice(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), tensorOf(info.Env(), info[0]).device().str()); }
Napi::Value TRequiresGrad(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), tensorOf(info.Env(), info[0]).requires_grad()); }
Napi::Value TSetRequiresGrad(const Napi::CallbackInfo& info) {
  try { tensorOf(info.Env(), info[0]).set_requires_grad(info[1].ToBoolean()); }
  catch (const c10::Error& e) { throw Napi::Error::New(info.Env(), std::string("requiresGrad: ") + e.what_without_backtrace()); }
  return info.Env().Undefined();
}
Napi::Value TIsLeaf(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), tensorOf(info.Env(), info[0]).is_leaf()); }
// tGrad(id) -> id of a new handle on .grad, or null
Napi::Value TGrad(const Napi::CallbackInfo& info) {
  const auto& g = tensorOf(info.Env(), info[0]).grad();
  return Napi::Value(info.Env(), idValue(info.Env(), g));
}
// tSetGrad(id, gradId | null)
Napi::Value TSetGrad(const Napi::CallbackInfo& info) {
  auto& x = tensorOf(info.Env(), info[0]);
  if (info[1].IsNull() || info[1].IsUndefined()) { x.mutable_grad().reset(); return info.Env().Undefined(); }
  if (!info[1].IsNumber()) throw Napi::TypeError::New(info.Env(), "grad must be a Tensor or null");
  x.mutable_grad() = tensorOf(info.Env(), info[1]);
  return info.Env().Undefined();
}
Napi::Value TSame(const Napi::CallbackInfo& info) {
  const auto& x = tensorOf(info.Env(), info[0]);
  if (!info[1].IsNumber()) return Napi::Boolean::New(info.Env(), false);
  Slot* o = slotOf(idOf(info.Env(), info[1]));
  return Napi::Boolean::New(info.Env(), o && x.is_same(o->t));
}

// tToArray(id): copies the data to the CPU first (from a CUDA device: a synchronizing copy); a meta
// tensor has no data, and libtorch's error for it becomes a JS one.
//
// A large result (>= kExternalBytes) is copied into a block of our caching allocator and handed to
// JS as an ArrayBuffer over that block, which goes back to the cache when V8 frees the buffer (issue
// #27 item 8, the matmul row). A plain typed array is a fresh calloc'd V8 buffer, and above the
// fixed mmap threshold (InitAll) each one is a new mapping whose pages fault in again on every copy:
// 11.8 ms for a 4 MB float32 result against ~1 ms for the copy into a reused block. Still a copy,
// as before: the array never aliases the tensor.
//
// Why V8's API here and not napi_create_external_arraybuffer: Node runs that finalizer only on a
// later turn of the event loop (SetImmediate), so a synchronous loop reading large results never
// gave a block back (RSS 9 GB after 2,000 4 MB reads). V8 calls a backing store's deleter when it
// frees the buffer, on any thread; the deleter only drops a tensor reference, and the allocator's
// deletePtr is locked. V8 counts the buffer's bytes for its GC heuristics as for its own buffers.
constexpr size_t kExternalBytes = size_t(64) << 10;
void releaseCopy(void*, size_t, void* hint) { delete static_cast<at::Tensor*>(hint); }
napi_value externalCopy(napi_env env, const at::Tensor& x, napi_typedarray_type type) {
  const size_t bytes = static_cast<size_t>(x.numel()) * x.element_size();
  auto* keep = new at::Tensor(at::empty({x.numel()}, x.options().dtype(x.scalar_type())));
  std::memcpy(keep->data_ptr(), x.data_ptr(), bytes);
  v8::Isolate* iso = v8::Isolate::GetCurrent();
  v8::Local<v8::ArrayBuffer> ab = v8::ArrayBuffer::New(iso, v8::ArrayBuffer::NewBackingStore(keep->data_ptr(), bytes, releaseCopy, keep));
  static_assert(sizeof(napi_value) == sizeof(v8::Local<v8::Value>), "napi_value is a v8::Local");
  v8::Local<v8::Value> lv = ab;
  napi_value abv, out;
  std::memcpy(static_cast<void*>(&abv), static_cast<const void*>(&lv), sizeof abv);
  if (napi_create_typedarray(env, type, static_cast<size_t>(x.numel()), abv, 0, &out) != napi_ok) throw Napi::Error::New(env, "toTypedArray: cannot make the array");
  return out;
}
Napi::Value TToArray(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  at::Tensor x;
  try {
    x = tensorOf(env, info[0]).detach().to(at::kCPU).contiguous();
  } catch (const c10::Error& e) {
    throw Napi::Error::New(env, std::string("toTypedArray: ") + e.what_without_backtrace());
  }
  auto st = x.scalar_type();
  size_t n = static_cast<size_t>(x.numel());
  napi_typedarray_type type;
  switch (st) {
    case c10::ScalarType::Float: type = napi_float32_array; break;
    case c10::ScalarType::Double: type = napi_float64_array; break;
    case c10::ScalarType::Int: type = napi_int32_array; break;
    case c10::ScalarType::Long: type = napi_bigint64_array; break;
    case c10::ScalarType::Byte: case c10::ScalarType::Bool: type = napi_uint8_array; break;
    case c10::ScalarType::Short: type = napi_int16_array; break;
    case c10::ScalarType::Char: type = napi_int8_array; break;
    default: x = x.to(at::kFloat); type = napi_float32_array; break;
  }
  if (n * x.element_size() >= kExternalBytes) return Napi::Value(env, externalCopy(env, x, type));
  auto copy = [&](auto* dst) { if (n) std::memcpy(dst, x.data_ptr(), n * x.element_size()); };
  switch (type) {
    case napi_float32_array: { auto a = Napi::Float32Array::New(env, n); copy(a.Data()); return a; }
    case napi_float64_array: { auto a = Napi::Float64Array::New(env, n); copy(a.Data()); return a; }
    case napi_int32_array: { auto a = Napi::Int32Array::New(env, n); copy(a.Data()); return a; }
    case napi_bigint64_array: { auto a = Napi::BigInt64Array::New(env, n); copy(a.Data()); return a; }
    case napi_uint8_array: { auto a = Napi::Uint8Array::New(env, n); copy(a.Data()); return a; }
    case napi_int16_array: { auto a = Napi::Int16Array::New(env, n); copy(a.Data()); return a; }
    default: { auto a = Napi::Int8Array::New(env, n); copy(a.Data()); return a; }
  }
}

Napi::Value TItem(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const auto& x = tensorOf(env, info[0]);
  try {
    if (x.numel() != 1) throw Napi::Error::New(env, "item(): tensor has " + std::to_string(x.numel()) + " elements, expected 1");
    at::Scalar s = x.item();
    if (s.isBoolean()) return Napi::Boolean::New(env, s.toBool());
    if (s.isIntegral(false)) return Napi::Number::New(env, static_cast<double>(s.toLong()));
    return Napi::Number::New(env, s.toDouble());
  } catch (const c10::Error& e) {
    throw Napi::Error::New(env, std::string("item: ") + e.what_without_backtrace());
  }
}

// ---------------------------------------------------------------- ops
enum class Kind : uint8_t {
  Tensor, OptTensor, Int, Float, Bool, Scalar, Str, IntList, FloatList, BoolList, TensorList,
  OptTensorList, Device, Generator, Other
};

struct OpInfo {
  c10::OperatorHandle handle;
  std::string name;
  std::vector<Kind> kinds;
  std::vector<bool> optional;
  std::vector<c10::optional<c10::IValue>> defaults;
  std::vector<std::string> argNames;
  // How the result comes back, decided once from the schema's returns: 0 nothing, 1 one Tensor
  // (its id), 2 several Tensors (an array of ids), 3 one Tensor[] (an array of ids), 4 anything
  // else (converted value by value; tensors in it as JS Tensors through the facade's factory).
  int ret = 4;
};
std::vector<std::unique_ptr<OpInfo>> g_ops;

Kind kindOf(const c10::TypePtr& t0, bool* optional) {
  c10::TypePtr t = t0;
  *optional = false;
  if (auto o = t->cast<c10::OptionalType>()) { *optional = true; t = o->getElementType(); }
  const std::string s = t->str();
  switch (t->kind()) {
    case c10::TypeKind::TensorType: return *optional ? Kind::OptTensor : Kind::Tensor;
    case c10::TypeKind::IntType: return Kind::Int;
    case c10::TypeKind::FloatType: return Kind::Float;
    case c10::TypeKind::BoolType: return Kind::Bool;
    case c10::TypeKind::NumberType: return Kind::Scalar;
    case c10::TypeKind::StringType: return Kind::Str;
    case c10::TypeKind::DeviceObjType: return Kind::Device;
    case c10::TypeKind::GeneratorType: return Kind::Generator;
    case c10::TypeKind::ListType: {
      auto el = t->cast<c10::ListType>()->getElementType();
      if (auto eo = el->cast<c10::OptionalType>()) {
        if (eo->getElementType()->kind() == c10::TypeKind::TensorType) return Kind::OptTensorList;
        return Kind::Other;
      }
      switch (el->kind()) {
        case c10::TypeKind::IntType: return Kind::IntList;
        case c10::TypeKind::FloatType: return Kind::FloatList;
        case c10::TypeKind::BoolType: return Kind::BoolList;
        case c10::TypeKind::TensorType: return Kind::TensorList;
        default: break;
      }
      if (el->str() == "SymInt") return Kind::IntList;
      return Kind::Other;
    }
    default: break;
  }
  if (s == "SymInt") return Kind::Int;
  if (s == "ScalarType" || s == "Layout" || s == "MemoryFormat") return Kind::Int;
  return Kind::Other;
}

std::string opLabel(const OpInfo& op) { return op.name; }

[[noreturn]] void argError(Napi::Env env, const OpInfo& op, size_t i, const std::string& what) {
  throw Napi::TypeError::New(env, opLabel(op) + ": argument '" + op.argNames[i] + "' " + what);
}

const at::Tensor& tensorArg(Napi::Env env, const Napi::Value& v, const OpInfo& op, size_t i) {
  // The facade passes a tensor as its id (a Smi) where the schema wants a Tensor; anything else
  // it passes is not a tensor.
  int32_t id;
  if (napi_get_value_int32(env, v, &id) != napi_ok) argError(env, op, i, "must be a Tensor");
  Slot* sl = slotOf(id);
  if (!sl) argError(env, op, i, std::string("is not usable: ") + kDisposed);
  return sl->t;
}

int64_t intArg(Napi::Env env, const Napi::Value& v, const OpInfo& op, size_t i) {
  if (v.IsNumber()) {
    double d = v.As<Napi::Number>().DoubleValue();
    if (d != static_cast<double>(static_cast<int64_t>(d))) argError(env, op, i, "must be an integer, got " + std::to_string(d));
    return static_cast<int64_t>(d);
  }
  if (v.IsBigInt()) { bool lossless; return v.As<Napi::BigInt>().Int64Value(&lossless); }
  if (v.IsBoolean()) return v.As<Napi::Boolean>().Value() ? 1 : 0;
  if (v.IsString()) {
    c10::ScalarType st;
    if (parseDtype(v.As<Napi::String>().Utf8Value(), &st)) return static_cast<int64_t>(st);
    argError(env, op, i, "got unknown dtype '" + v.As<Napi::String>().Utf8Value() + "'");
  }
  argError(env, op, i, "must be an integer");
}

// A JS number where a Scalar goes: integral numbers become int scalars so integer tensors keep
// their dtype; others stay float. (The generic path and the fast paths below both use this.)
c10::Scalar scalarOfNumber(double d) {
  if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.0e15) return c10::Scalar(static_cast<int64_t>(d));
  return c10::Scalar(d);
}

c10::IValue convert(Napi::Env env, const Napi::Value& v, const OpInfo& op, size_t i) {
  const Kind k = op.kinds[i];
  // The hot cases with one type check: a tensor id, a number where a number goes.
  napi_valuetype jt = napi_undefined;
  napi_typeof(env, v, &jt);
  if (jt == napi_number && (k == Kind::Tensor || k == Kind::OptTensor || k == Kind::Scalar || k == Kind::Float)) {
    if (k == Kind::Tensor || k == Kind::OptTensor) return tensorArg(env, v, op, i);
    double d = 0;
    napi_get_value_double(env, v, &d);
    if (k == Kind::Float) return d;
    return scalarOfNumber(d);
  }
  if (jt == napi_null || jt == napi_undefined) {
    if (v.IsUndefined() && op.defaults[i].has_value()) return *op.defaults[i];
    if (op.optional[i] || k == Kind::Generator) return c10::IValue();
    if (op.defaults[i].has_value()) return *op.defaults[i];
    argError(env, op, i, "is required");
  }
  switch (k) {
    case Kind::Tensor: case Kind::OptTensor: return tensorArg(env, v, op, i);
    case Kind::Int: return intArg(env, v, op, i);
    case Kind::Float:
      if (!v.IsNumber()) argError(env, op, i, "must be a number");
      return v.As<Napi::Number>().DoubleValue();
    case Kind::Bool: return v.ToBoolean().Value();
    case Kind::Scalar: {
      if (v.IsBoolean()) return c10::Scalar(v.As<Napi::Boolean>().Value());
      if (v.IsBigInt()) { bool l; return c10::Scalar(static_cast<int64_t>(v.As<Napi::BigInt>().Int64Value(&l))); }
      if (!v.IsNumber()) {
        // a tensor where a Scalar goes: the facade passes [id]
        if (v.IsArray() && v.As<Napi::Array>().Length() == 1) return tensorArg(env, v.As<Napi::Array>().Get(0u), op, i).item();
        argError(env, op, i, "must be a number");
      }
      return scalarOfNumber(v.As<Napi::Number>().DoubleValue());
    }
    case Kind::Str:
      if (!v.IsString()) argError(env, op, i, "must be a string");
      return v.As<Napi::String>().Utf8Value();
    case Kind::IntList: {
      std::vector<int64_t> out;
      if (v.IsNumber()) { out.push_back(intArg(env, v, op, i)); return out; }
      if (!v.IsArray()) argError(env, op, i, "must be an array of integers");
      auto a = v.As<Napi::Array>();
      out.reserve(a.Length());
      for (uint32_t j = 0; j < a.Length(); ++j) out.push_back(intArg(env, a.Get(j), op, i));
      return out;
    }
    case Kind::FloatList: {
      std::vector<double> out;
      if (v.IsNumber()) { out.push_back(v.As<Napi::Number>().DoubleValue()); return out; }
      if (!v.IsArray()) argError(env, op, i, "must be an array of numbers");
      auto a = v.As<Napi::Array>();
      for (uint32_t j = 0; j < a.Length(); ++j) out.push_back(a.Get(j).ToNumber().DoubleValue());
      return out;
    }
    case Kind::BoolList: {
      if (!v.IsArray()) argError(env, op, i, "must be an array of booleans");
      auto a = v.As<Napi::Array>();
      if (a.Length() == 2) return std::array<bool, 2>{a.Get(0u).ToBoolean(), a.Get(1u).ToBoolean()};
      if (a.Length() == 3) return std::array<bool, 3>{a.Get(0u).ToBoolean(), a.Get(1u).ToBoolean(), a.Get(2u).ToBoolean()};
      if (a.Length() == 4) return std::array<bool, 4>{a.Get(0u).ToBoolean(), a.Get(1u).ToBoolean(), a.Get(2u).ToBoolean(), a.Get(3u).ToBoolean()};
      argError(env, op, i, "bool list of this length is not supported");
    }
    case Kind::TensorList: {
      if (!v.IsArray()) argError(env, op, i, "must be an array of Tensors");
      auto a = v.As<Napi::Array>();
      std::vector<at::Tensor> out;
      out.reserve(a.Length());
      for (uint32_t j = 0; j < a.Length(); ++j) out.push_back(tensorArg(env, a.Get(j), op, i));
      return out;
    }
    case Kind::OptTensorList: {
      if (!v.IsArray()) argError(env, op, i, "must be an array of Tensors or nulls");
      auto a = v.As<Napi::Array>();
      c10::List<c10::optional<at::Tensor>> out;
      for (uint32_t j = 0; j < a.Length(); ++j) {
        Napi::Value e = a.Get(j);
        if (e.IsNull() || e.IsUndefined()) out.push_back(c10::nullopt);
        else out.push_back(tensorArg(env, e, op, i));
      }
      return out;
    }
    case Kind::Device:
      if (!v.IsString()) argError(env, op, i, "must be a device string like 'cpu'");
      return c10::Device(v.As<Napi::String>().Utf8Value());
    case Kind::Generator: return c10::IValue();
    case Kind::Other: break;
  }
  argError(env, op, i, "has a type paperlab cannot pass");
}

Napi::Value toJs(Napi::Env env, const c10::IValue& v) {
  if (v.isTensor()) return jsTensor(env, v.toTensor());
  if (v.isNone()) return env.Null();
  if (v.isDouble()) return Napi::Number::New(env, v.toDouble());
  if (v.isInt()) return Napi::Number::New(env, static_cast<double>(v.toInt()));
  if (v.isBool()) return Napi::Boolean::New(env, v.toBool());
  if (v.isString()) return Napi::String::New(env, v.toStringRef());
  if (v.isTensorList()) {
    auto l = v.toTensorList();
    Napi::Array a = Napi::Array::New(env, l.size());
    for (size_t i = 0; i < l.size(); ++i) a.Set(static_cast<uint32_t>(i), jsTensor(env, l.get(i)));
    return a;
  }
  if (v.isTuple()) {
    const auto& el = v.toTupleRef().elements();
    Napi::Array a = Napi::Array::New(env, el.size());
    for (size_t i = 0; i < el.size(); ++i) a.Set(static_cast<uint32_t>(i), toJs(env, el[i]));
    return a;
  }
  if (v.isList()) {
    auto l = v.toListRef();
    Napi::Array a = Napi::Array::New(env, l.size());
    for (size_t i = 0; i < l.size(); ++i) a.Set(static_cast<uint32_t>(i), toJs(env, l[i]));
    return a;
  }
  if (v.isIntList()) {
    auto l = v.toIntVector();
    Napi::Array a = Napi::Array::New(env, l.size());
    for (size_t i = 0; i < l.size(); ++i) a.Set(static_cast<uint32_t>(i), Napi::Number::New(env, static_cast<double>(l[i])));
    return a;
  }
  if (v.isScalar()) return Napi::Number::New(env, v.toScalar().toDouble());
  return env.Undefined();
}

// Unboxed fast paths (below, before Call): per op handle, nullptr where none.
using FastFn = napi_value (*)(napi_env, const Napi::CallbackInfo&, const OpInfo&);
std::vector<FastFn> g_fastOf;
const std::unordered_map<std::string, FastFn>& fastTable();

// op(name, overload) -> handle
Napi::Value Op(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = info[0].As<Napi::String>().Utf8Value();
  std::string overload = info.Length() > 1 && info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : "";
  std::string full = name.find("::") == std::string::npos ? "aten::" + name : name;
  auto h = c10::Dispatcher::singleton().findSchema({full, overload});
  if (!h.has_value()) throw Napi::Error::New(env, "no operator " + full + (overload.empty() ? "" : "." + overload) + " in this libtorch");
  auto info2 = std::make_unique<OpInfo>(OpInfo{*h, full + (overload.empty() ? "" : "." + overload), {}, {}, {}, {}, 4});
  const auto& rets = h->schema().returns();
  bool allTensors = !rets.empty();
  for (const auto& r : rets) allTensors = allTensors && r.type()->kind() == c10::TypeKind::TensorType;
  const bool list = rets.size() == 1 && rets[0].type()->kind() == c10::TypeKind::ListType &&
                    rets[0].type()->cast<c10::ListType>()->getElementType()->kind() == c10::TypeKind::TensorType;
  info2->ret = rets.empty() ? 0 : allTensors ? (rets.size() == 1 ? 1 : 2) : list ? 3 : 4;
  for (const auto& a : h->schema().arguments()) {
    bool opt;
    info2->kinds.push_back(kindOf(a.type(), &opt));
    info2->optional.push_back(opt);
    info2->defaults.push_back(a.default_value());
    info2->argNames.push_back(a.name());
  }
  const auto& table = fastTable();
  auto f = table.find(info2->name);
  g_ops.push_back(std::move(info2));
  g_fastOf.resize(g_ops.size(), nullptr);
  if (f != table.end()) g_fastOf.back() = f->second;
  return Napi::Number::New(env, static_cast<double>(g_ops.size() - 1));
}

Napi::Value OpSchema(const Napi::CallbackInfo& info) {
  size_t h = info[0].As<Napi::Number>().Uint32Value();
  if (h >= g_ops.size()) throw Napi::Error::New(info.Env(), "bad op handle");
  std::ostringstream ss;
  ss << g_ops[h]->handle.schema();
  return Napi::String::New(info.Env(), ss.str());
}

// opInfo(handle) -> [kinds, ret]: one letter per argument where the facade must pass a tensor as
// its id (T Tensor, O Tensor?, L Tensor[], M Tensor?[], S Scalar: [id]), '.' elsewhere; and the
// return mode (OpInfo::ret).
Napi::Value OpInfoFn(const Napi::CallbackInfo& info) {
  size_t h = info[0].As<Napi::Number>().Uint32Value();
  if (h >= g_ops.size()) throw Napi::Error::New(info.Env(), "bad op handle");
  const OpInfo& op = *g_ops[h];
  std::string k;
  for (Kind x : op.kinds)
    k += x == Kind::Tensor ? 'T' : x == Kind::OptTensor ? 'O' : x == Kind::TensorList ? 'L' : x == Kind::OptTensorList ? 'M' : x == Kind::Scalar ? 'S' : '.';
  Napi::Array a = Napi::Array::New(info.Env(), 2);
  a.Set(0u, Napi::String::New(info.Env(), k));
  a.Set(1u, Napi::Number::New(info.Env(), op.ret));
  return a;
}

// call(handle, ...args): the operator's arguments as call arguments (no array per call)
bool InterruptOverdue();

// Runs an operator's work; its C++ errors become JS errors naming the operator.
template <typename F>
void runOp(napi_env env, const OpInfo& op, F&& f) {
  try {
    f();
  } catch (const c10::Error& e) {
    throwOpError(env, op.name + ": " + e.what_without_backtrace());
  } catch (const std::exception& e) {
    throwOpError(env, op.name + ": " + e.what());
  }
}

// ---- unboxed fast paths for the hottest operators (issue #27 item 6)
// The generic path (Call below) converts each argument to an IValue by the schema and runs the
// operator's boxed kernel; a one-element add spent about a third of its time there. The ops below
// call the same operator unboxed instead (at::_ops::X::call: the same dispatcher entry, so autograd,
// type promotion, broadcasting and errors are the operator's own). A fast path takes only the
// argument forms it knows (tensor ids; a JS number where a Scalar goes, converted exactly as
// convert() does; an omitted alpha); for anything else it returns nullptr and the generic path
// takes the call, so that path stays the single source of semantics. setFastPaths(false) turns them
// off: test/core/fastpath.test.ts runs every fast op both ways (values, dtypes, gradients, errors)
// and gradcheck with them on and off.
bool g_fastPaths = true;
double g_fastHits = 0;  // calls a fast path took (fastPathHits(): the tests check they are taken)

inline at::Tensor* fastTensor(napi_env env, napi_value v) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_number) return nullptr;
  int32_t id;
  napi_get_value_int32(env, v, &id);
  Slot* sl = slotOf(id);
  return sl ? &sl->t : nullptr;
}
// A Scalar from a JS number, as convert() makes it; false for any other value.
inline bool fastScalar(napi_env env, napi_value v, at::Scalar* out) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_number) return false;
  double d = 0;
  napi_get_value_double(env, v, &d);
  *out = scalarOfNumber(d);
  return true;
}
// alpha: omitted (undefined) is the schema's default 1
inline bool fastAlpha(napi_env env, const Napi::CallbackInfo& info, size_t i, at::Scalar* out) {
  if (info.Length() <= i || info[i].IsUndefined()) { *out = at::Scalar(static_cast<int64_t>(1)); return true; }
  return fastScalar(env, info[i], out);
}
template <typename F>
napi_value fastRun(napi_env env, const OpInfo& op, F&& f) {
  at::Tensor r;
  runOp(env, op, [&] { r = f(); });
  return idValue(env, std::move(r));
}
// (self, other, alpha=1)
#define PAPERLAB_FAST_TTS(FN, OP)                                                                 \
  napi_value FN(napi_env env, const Napi::CallbackInfo& info, const OpInfo& op) {                 \
    if (info.Length() > 4) return nullptr;                                                        \
    at::Tensor* a = fastTensor(env, info[1]);                                                     \
    at::Tensor* b = a ? fastTensor(env, info[2]) : nullptr;                                       \
    at::Scalar alpha;                                                                             \
    if (!b || !fastAlpha(env, info, 3, &alpha)) return nullptr;                                   \
    return fastRun(env, op, [&]() -> at::Tensor { return at::_ops::OP::call(*a, *b, alpha); });   \
  }
// (self, Scalar other, alpha=1)
#define PAPERLAB_FAST_TSS(FN, OP)                                                                 \
  napi_value FN(napi_env env, const Napi::CallbackInfo& info, const OpInfo& op) {                 \
    if (info.Length() > 4) return nullptr;                                                        \
    at::Tensor* a = fastTensor(env, info[1]);                                                     \
    at::Scalar b, alpha;                                                                          \
    if (!a || !fastScalar(env, info[2], &b) || !fastAlpha(env, info, 3, &alpha)) return nullptr;  \
    return fastRun(env, op, [&]() -> at::Tensor { return at::_ops::OP::call(*a, b, alpha); });    \
  }
// (self, other)
#define PAPERLAB_FAST_TT(FN, OP)                                                                  \
  napi_value FN(napi_env env, const Napi::CallbackInfo& info, const OpInfo& op) {                 \
    if (info.Length() != 3) return nullptr;                                                       \
    at::Tensor* a = fastTensor(env, info[1]);                                                     \
    at::Tensor* b = a ? fastTensor(env, info[2]) : nullptr;                                       \
    if (!b) return nullptr;                                                                       \
    return fastRun(env, op, [&]() -> at::Tensor { return at::_ops::OP::call(*a, *b); });          \
  }
// (self, Scalar other)
#define PAPERLAB_FAST_TS(FN, OP)                                                                  \
  napi_value FN(napi_env env, const Napi::CallbackInfo& info, const OpInfo& op) {                 \
    if (info.Length() != 3) return nullptr;                                                       \
    at::Tensor* a = fastTensor(env, info[1]);                                                     \
    at::Scalar b;                                                                                 \
    if (!a || !fastScalar(env, info[2], &b)) return nullptr;                                      \
    return fastRun(env, op, [&]() -> at::Tensor { return at::_ops::OP::call(*a, b); });           \
  }
// (self)
#define PAPERLAB_FAST_T(FN, OP)                                                                   \
  napi_value FN(napi_env env, const Napi::CallbackInfo& info, const OpInfo& op) {                 \
    if (info.Length() != 2) return nullptr;                                                       \
    at::Tensor* a = fastTensor(env, info[1]);                                                     \
    if (!a) return nullptr;                                                                       \
    return fastRun(env, op, [&]() -> at::Tensor { return at::_ops::OP::call(*a); });              \
  }
// (self, dtype=None): only the default (null or omitted) dtype
#define PAPERLAB_FAST_T_NODTYPE(FN, OP)                                                           \
  napi_value FN(napi_env env, const Napi::CallbackInfo& info, const OpInfo& op) {                 \
    if (info.Length() > 3 || info.Length() < 2) return nullptr;                                   \
    if (info.Length() == 3 && !info[2].IsNull() && !info[2].IsUndefined()) return nullptr;       \
    at::Tensor* a = fastTensor(env, info[1]);                                                     \
    if (!a) return nullptr;                                                                       \
    return fastRun(env, op, [&]() -> at::Tensor { return at::_ops::OP::call(*a, c10::nullopt); }); \
  }
PAPERLAB_FAST_T_NODTYPE(fastSum, sum)
PAPERLAB_FAST_T_NODTYPE(fastMean, mean)
#undef PAPERLAB_FAST_T_NODTYPE
PAPERLAB_FAST_TTS(fastAddT, add_Tensor)
PAPERLAB_FAST_TTS(fastSubT, sub_Tensor)
PAPERLAB_FAST_TTS(fastAddT_, add__Tensor)
PAPERLAB_FAST_TTS(fastSubT_, sub__Tensor)
PAPERLAB_FAST_TSS(fastAddS, add_Scalar)
PAPERLAB_FAST_TSS(fastSubS, sub_Scalar)
PAPERLAB_FAST_TSS(fastAddS_, add__Scalar)
PAPERLAB_FAST_TT(fastMulT, mul_Tensor)
PAPERLAB_FAST_TT(fastDivT, div_Tensor)
PAPERLAB_FAST_TT(fastMulT_, mul__Tensor)
PAPERLAB_FAST_TT(fastDivT_, div__Tensor)
PAPERLAB_FAST_TS(fastMulS, mul_Scalar)
PAPERLAB_FAST_TS(fastDivS, div_Scalar)
PAPERLAB_FAST_TS(fastMulS_, mul__Scalar)
PAPERLAB_FAST_TS(fastDivS_, div__Scalar)
PAPERLAB_FAST_TS(fastPowTS, pow_Tensor_Scalar)
PAPERLAB_FAST_T(fastNeg, neg)
PAPERLAB_FAST_T(fastExp, exp)
PAPERLAB_FAST_T(fastTanh, tanh)
PAPERLAB_FAST_T(fastSigmoid, sigmoid)
PAPERLAB_FAST_T(fastRelu, relu)
PAPERLAB_FAST_T(fastSqrt, sqrt)
PAPERLAB_FAST_T(fastAbs, abs)
PAPERLAB_FAST_T(fastLog, log)
PAPERLAB_FAST_T(fastT, t)
PAPERLAB_FAST_T(fastDetach, detach)
PAPERLAB_FAST_TT(fastMm, mm)
PAPERLAB_FAST_TT(fastMatmul, matmul)
#undef PAPERLAB_FAST_TTS
#undef PAPERLAB_FAST_TSS
#undef PAPERLAB_FAST_TT
#undef PAPERLAB_FAST_TS
#undef PAPERLAB_FAST_T
// By the op's full name (OpInfo::name); which ops: the facade's arithmetic and the ops of the
// small-model loops (ORFit, the dynamics modules' MLPs).
const std::unordered_map<std::string, FastFn>& fastTable() {
  static const std::unordered_map<std::string, FastFn> table = {
      {"aten::add.Tensor", fastAddT}, {"aten::sub.Tensor", fastSubT}, {"aten::add_.Tensor", fastAddT_},
      {"aten::sub_.Tensor", fastSubT_}, {"aten::add.Scalar", fastAddS}, {"aten::sub.Scalar", fastSubS}, {"aten::add_.Scalar", fastAddS_},
      {"aten::mul.Tensor", fastMulT}, {"aten::div.Tensor", fastDivT}, {"aten::mul_.Tensor", fastMulT_},
      {"aten::div_.Tensor", fastDivT_}, {"aten::mul.Scalar", fastMulS}, {"aten::div.Scalar", fastDivS},
      {"aten::mul_.Scalar", fastMulS_}, {"aten::div_.Scalar", fastDivS_}, {"aten::neg", fastNeg},
      {"aten::exp", fastExp}, {"aten::tanh", fastTanh}, {"aten::sigmoid", fastSigmoid}, {"aten::relu", fastRelu},
      {"aten::sqrt", fastSqrt}, {"aten::abs", fastAbs}, {"aten::log", fastLog}, {"aten::t", fastT},
      {"aten::detach", fastDetach}, {"aten::sum", fastSum}, {"aten::mean", fastMean}, {"aten::pow.Tensor_Scalar", fastPowTS}, {"aten::mm", fastMm}, {"aten::matmul", fastMatmul},
  };
  return table;
}

// The generic path's argument stack, kept between calls (a fresh vector was a malloc per op);
// a nested call (none today: no operator calls back into JS) gets its own.
torch::jit::Stack g_stack;
bool g_stackBusy = false;

Napi::Value Call(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (InterruptOverdue()) throw Napi::Error::New(env, "interrupted: the run did not stop within 1 s of the signal");
  size_t h = info[0].As<Napi::Number>().Uint32Value();
  if (h >= g_ops.size()) throw Napi::Error::New(env, "bad op handle");
  const OpInfo& op = *g_ops[h];
  const size_t n = op.kinds.size();
  const uint32_t given = static_cast<uint32_t>(info.Length() - 1);
  if (g_fastPaths && h < g_fastOf.size() && g_fastOf[h])
    if (napi_value r = g_fastOf[h](env, info, op)) { ++g_fastHits; return Napi::Value(env, r); }
  if (given > n) throw Napi::TypeError::New(env, op.name + ": takes " + std::to_string(n) + " arguments, got " + std::to_string(given));
  torch::jit::Stack local;
  const bool shared = !g_stackBusy;
  torch::jit::Stack& stack = shared ? g_stack : local;
  struct Release {
    bool on;
    ~Release() { if (on) { g_stack.clear(); g_stackBusy = false; } }
  } release{shared};
  if (shared) g_stackBusy = true;
  stack.clear();
  stack.reserve(n);
  for (size_t i = 0; i < n; ++i) stack.push_back(convert(env, i < given ? info[i + 1] : env.Undefined(), op, i));
  runOp(env, op, [&] { op.handle.callBoxed(&stack); });
  auto idOrNull = [&](const c10::IValue& v) { return Napi::Value(env, v.isTensor() ? idValue(env, v.toTensor()) : env.Null()); };
  switch (op.ret) {
    case 1: if (stack.size() == 1) return idOrNull(stack[0]); break;
    case 2: {
      Napi::Array out = Napi::Array::New(env, stack.size());
      for (size_t i = 0; i < stack.size(); ++i) out.Set(static_cast<uint32_t>(i), idOrNull(stack[i]));
      return out;
    }
    case 3: if (stack.size() == 1 && stack[0].isTensorList()) {
      auto l = stack[0].toTensorList();
      Napi::Array a = Napi::Array::New(env, l.size());
      for (size_t i = 0; i < l.size(); ++i) a.Set(static_cast<uint32_t>(i), Napi::Value(env, idValue(env, l.get(i))));
      return a;
    } break;
    default: break;
  }
  if (stack.empty()) return env.Undefined();
  if (stack.size() == 1) return toJs(env, stack[0]);
  Napi::Array out = Napi::Array::New(env, stack.size());
  for (size_t i = 0; i < stack.size(); ++i) out.Set(static_cast<uint32_t>(i), toJs(env, stack[i]));
  return out;
}

// ---------------------------------------------------------------- tensor creation
Napi::Value FromArray(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsTypedArray()) throw Napi::TypeError::New(env, "fromArray: data must be a typed array");
  auto ta = info[0].As<Napi::TypedArray>();
  auto shapeArr = info[1].As<Napi::Array>();
  std::vector<int64_t> shape;
  int64_t numel = 1;
  for (uint32_t i = 0; i < shapeArr.Length(); ++i) {
    double d = shapeArr.Get(i).ToNumber().DoubleValue();
    if (d < 0 || d != std::floor(d)) throw Napi::TypeError::New(env, "fromArray: shape must hold non-negative integers");
    shape.push_back(static_cast<int64_t>(d));
    numel *= static_cast<int64_t>(d);
  }
  c10::ScalarType src;
  switch (ta.TypedArrayType()) {
    case napi_float32_array: src = c10::ScalarType::Float; break;
    case napi_float64_array: src = c10::ScalarType::Double; break;
    case napi_int32_array: src = c10::ScalarType::Int; break;
    case napi_bigint64_array: src = c10::ScalarType::Long; break;
    case napi_uint8_array: case napi_uint8_clamped_array: src = c10::ScalarType::Byte; break;
    case napi_int16_array: src = c10::ScalarType::Short; break;
    case napi_int8_array: src = c10::ScalarType::Char; break;
    default: throw Napi::TypeError::New(env, "fromArray: unsupported typed array");
  }
  if (static_cast<int64_t>(ta.ElementLength()) != numel)
    throw Napi::RangeError::New(env, "fromArray: data has " + std::to_string(ta.ElementLength()) +
                                         " elements but shape [" + c10::Join(", ", shape) + "] needs " + std::to_string(numel));
  c10::ScalarType dst = src;
  if (info.Length() > 2 && info[2].IsString()) {
    std::string d = info[2].As<Napi::String>().Utf8Value();
    if (!parseDtype(d, &dst)) throw Napi::TypeError::New(env, "fromArray: unknown dtype '" + d + "'");
  }
  uint8_t* base = static_cast<uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
  at::Tensor t = at::empty(shape, at::TensorOptions().dtype(src));
  if (numel) std::memcpy(t.data_ptr(), base, ta.ByteLength());
  if (dst != src) t = dst == c10::ScalarType::Bool ? t.ne(0) : t.to(dst);
  return Napi::Value(env, idValue(env, t));
}

// ---------------------------------------------------------------- autograd
std::vector<at::Tensor> tensorList(Napi::Env env, const Napi::Value& v, const char* what) {
  std::vector<at::Tensor> out;
  if (v.IsNull() || v.IsUndefined()) return out;
  if (!v.IsArray()) throw Napi::TypeError::New(env, std::string(what) + " must be an array of Tensors");
  auto a = v.As<Napi::Array>();
  for (uint32_t i = 0; i < a.Length(); ++i) {
    Napi::Value e = a.Get(i);
    if (e.IsNull() || e.IsUndefined()) { out.emplace_back(); continue; }
    if (!e.IsNumber()) throw Napi::TypeError::New(env, std::string(what) + " must be an array of Tensors");
    out.push_back(tensorOf(env, e));
  }
  return out;
}

// backward(tensors, gradTensors|null, retainGraph, createGraph)
Napi::Value Backward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto outs = tensorList(env, info[0], "backward: tensors");
  auto grads = tensorList(env, info[1], "backward: gradients");
  bool retain = info[2].ToBoolean(), create = info[3].ToBoolean();
  try {
    torch::autograd::backward(outs, grads, retain ? c10::optional<bool>(true) : c10::nullopt, create);
  } catch (const c10::Error& e) {
    throwOpError(env, std::string("backward: ") + e.what_without_backtrace());
  }
  return env.Undefined();
}

// grad(outputs, inputs, gradOutputs|null, retainGraph, createGraph, allowUnused)
Napi::Value Grad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto outs = tensorList(env, info[0], "grad: outputs");
  auto ins = tensorList(env, info[1], "grad: inputs");
  auto gos = tensorList(env, info[2], "grad: gradOutputs");
  bool create = info[4].ToBoolean();
  bool retain = info[3].IsUndefined() || info[3].IsNull() ? create : info[3].ToBoolean().Value();
  bool allowUnused = info[5].ToBoolean();
  std::vector<at::Tensor> res;
  try {
    res = torch::autograd::grad(outs, ins, gos, retain, create, allowUnused);
  } catch (const c10::Error& e) {
    throwOpError(env, std::string("grad: ") + e.what_without_backtrace());
  }
  Napi::Array a = Napi::Array::New(env, res.size());
  for (size_t i = 0; i < res.size(); ++i)
    a.Set(static_cast<uint32_t>(i), Napi::Value(env, idValue(env, res[i])));
  return a;
}

Napi::Value SetGradEnabled(const Napi::CallbackInfo& info) {
  bool prev = at::GradMode::is_enabled();
  at::GradMode::set_enabled(info[0].ToBoolean());
  return Napi::Boolean::New(info.Env(), prev);
}
Napi::Value IsGradEnabled(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), at::GradMode::is_enabled());
}

// ---------------------------------------------------------------- interrupt signals
// Node runs a process.on('SIGINT'/'SIGTERM') listener only between event-loop turns, so a
// synchronous training loop never sees the signal. While a run is watched, this handler takes
// SIGINT/SIGTERM itself and only counts them (the run polls the count between steps through its
// AbortSignal); it does not chain to the handler it replaced, since Node's own one re-raises the
// signal to die. A second signal exits at once, with 128 + signo, as shells do.
std::atomic<int> g_sigCount{0};
std::atomic<int> g_sigLast{0};
std::atomic<bool> g_sigAcked{false};
std::atomic<int64_t> g_sigTimeNs{0};

int64_t MonotonicNs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);  // async-signal-safe
  return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}
const int kWatched[2] = {SIGINT, SIGTERM};
struct sigaction g_sigPrev[2];
bool g_sigInstalled = false;

void OnInterrupt(int signo) {
  const int n = g_sigCount.fetch_add(1) + 1;
  g_sigLast.store(signo);
  if (n == 1) g_sigTimeNs.store(MonotonicNs());
  if (n >= 2) {
    static const char msg[] = "\npaperlab: second signal, exiting now\n";
    ssize_t ignored = write(2, msg, sizeof msg - 1);
    (void)ignored;
    _exit(128 + signo);
  }
}

// watchInterrupts(): install (idempotent) and reset the count; unwatchInterrupts(): restore.
Napi::Value WatchInterrupts(const Napi::CallbackInfo& info) {
  g_sigCount.store(0);
  g_sigLast.store(0);
  g_sigAcked.store(false);
  if (!g_sigInstalled) {
    for (int i = 0; i < 2; ++i) {
      struct sigaction sa;
      std::memset(&sa, 0, sizeof sa);
      sa.sa_handler = OnInterrupt;
      sa.sa_flags = SA_RESTART | SA_ONSTACK;
      sigemptyset(&sa.sa_mask);
      if (sigaction(kWatched[i], &sa, &g_sigPrev[i]) != 0) throw Napi::Error::New(info.Env(), "watchInterrupts: sigaction failed");
    }
    g_sigInstalled = true;
  }
  return info.Env().Undefined();
}
Napi::Value UnwatchInterrupts(const Napi::CallbackInfo& info) {
  if (g_sigInstalled) {
    for (int i = 0; i < 2; ++i) sigaction(kWatched[i], &g_sigPrev[i], nullptr);
    g_sigInstalled = false;
  }
  return info.Env().Undefined();
}
// pendingInterrupt(ack): the signal number received since watchInterrupts() (0 if none). A loop
// that reads it with ack=true has seen the signal and will stop at its next step; a run that
// has not seen it within 1 s (a loop that never polls) gets an error from its next operator call.
Napi::Value PendingInterrupt(const Napi::CallbackInfo& info) {
  const int signo = g_sigCount.load() > 0 ? g_sigLast.load() : 0;
  if (signo && info.Length() > 0 && info[0].ToBoolean().Value()) g_sigAcked.store(true);
  return Napi::Number::New(info.Env(), signo);
}
bool InterruptOverdue() {
  return g_sigCount.load(std::memory_order_relaxed) > 0 && g_sigInstalled && !g_sigAcked.load() &&
         MonotonicNs() - g_sigTimeNs.load() > 1000000000;
}

// ---------------------------------------------------------------- runtime
Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  int n = info[0].As<Napi::Number>().Int32Value();
  if (n < 1) throw Napi::RangeError::New(info.Env(), "setNumThreads: threads must be >= 1");
  at::set_num_threads(n);
  // OpenBLAS (used by matmul on some builds) keeps its own pool; small products get fewer (blas.cpp).
  paperlab::blasSetThreads(n);
  return info.Env().Undefined();
}
// blasStats() -> { policy, threads, narrowed } (native/blas.cpp)
Napi::Value BlasStatsJs(const Napi::CallbackInfo& info) {
  const paperlab::BlasStats s = paperlab::blasStats();
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("policy", s.policy);
  o.Set("threads", s.threads);
  o.Set("narrowed", s.narrowed);
  return o;
}
Napi::Value GetNumThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), at::get_num_threads());
}
Napi::Value ManualSeed(const Napi::CallbackInfo& info) {
  double d = info[0].As<Napi::Number>().DoubleValue();
  torch::manual_seed(static_cast<uint64_t>(d));
  return info.Env().Undefined();
}
// getRngState(device?) / setRngState(bytes, device?): a default generator's whole state, as
// torch.get_rng_state / set_rng_state (CPU: the Mersenne Twister words and the cached normal
// sample) and torch.cuda.get_rng_state / set_rng_state (a CUDA device: Philox seed and offset), for
// checkpoints that resume bit-identically. `device` is 'cpu' (the default) or 'cuda:N'.
at::Generator defaultGenerator(Napi::Env env, const Napi::Value& v, const char* what) {
  if (!v.IsString()) return at::detail::getDefaultCPUGenerator();
  try {
    c10::Device d(v.As<Napi::String>().Utf8Value());
    if (d.is_cuda() && !d.has_index()) d = c10::Device(c10::DeviceType::CUDA, 0);
    if (d.is_cuda() && !torch::cuda::is_available()) throw Napi::Error::New(env, std::string(what) + ": no CUDA device is available");
    return at::globalContext().defaultGenerator(d);
  } catch (const c10::Error& e) {
    throw Napi::Error::New(env, std::string(what) + ": " + e.what_without_backtrace());
  }
}
Napi::Value GetRngState(const Napi::CallbackInfo& info) {
  auto gen = defaultGenerator(info.Env(), info[0], "getRngState");
  at::Tensor s;
  try {
    std::lock_guard<std::mutex> lock(gen.mutex());
    s = gen.get_state();
  } catch (const c10::Error& e) {
    throw Napi::Error::New(info.Env(), std::string("getRngState: ") + e.what_without_backtrace());
  }
  return Napi::Buffer<uint8_t>::Copy(info.Env(), s.data_ptr<uint8_t>(), static_cast<size_t>(s.numel()));
}
Napi::Value SetRngState(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
    throw Napi::TypeError::New(env, "setRngState: state must be a Uint8Array");
  auto a = info[0].As<Napi::Uint8Array>();
  at::Tensor t = at::empty({static_cast<int64_t>(a.ElementLength())}, at::kByte);
  std::memcpy(t.data_ptr<uint8_t>(), a.Data(), a.ElementLength());
  auto gen = defaultGenerator(env, info[1], "setRngState");
  try {
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(t);
  } catch (const c10::Error& e) {
    throw Napi::Error::New(env, std::string("setRngState: ") + e.what_without_backtrace());
  }
  return env.Undefined();
}

// ---------------------------------------------------------------- CUDA
// torch.cuda.*: through torch::cuda (present, answering "no CUDA", in a CPU-only libtorch).
Napi::Value CudaDeviceCount(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), torch::cuda::is_available() ? static_cast<double>(torch::cuda::device_count()) : 0.0);
}
Napi::Value CudaSynchronize(const Napi::CallbackInfo& info) {
  int64_t idx = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Int64Value() : -1;
  try { torch::cuda::synchronize(idx); }
  catch (const c10::Error& e) { throw Napi::Error::New(info.Env(), std::string("cuda.synchronize: ") + e.what_without_backtrace()); }
  return info.Env().Undefined();
}
Napi::Value CudaManualSeed(const Napi::CallbackInfo& info) {
  torch::cuda::manual_seed_all(static_cast<uint64_t>(info[0].As<Napi::Number>().DoubleValue()));
  return info.Env().Undefined();
}
// cudaMemory(idx) -> [allocated, reserved] bytes of libtorch's CUDA caching allocator, or null in a
// build without the CUDA headers; cudaEmptyCache() gives its unused blocks back to the driver.
Napi::Value CudaMemory(const Napi::CallbackInfo& info) {
#ifdef PAPERLAB_CUDA_HEADERS
  int idx = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : 0;
  if (!torch::cuda::is_available()) return info.Env().Null();
  try {
    const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(static_cast<c10::DeviceIndex>(idx));
    Napi::Array a = Napi::Array::New(info.Env(), 2);
    a.Set(0u, Napi::Number::New(info.Env(), static_cast<double>(stats.allocated_bytes[0].current)));
    a.Set(1u, Napi::Number::New(info.Env(), static_cast<double>(stats.reserved_bytes[0].current)));
    return a;
  } catch (const c10::Error& e) {
    throw Napi::Error::New(info.Env(), std::string("cuda.memoryAllocated: ") + e.what_without_backtrace());
  }
#else
  return info.Env().Null();
#endif
}
Napi::Value CudaEmptyCache(const Napi::CallbackInfo& info) {
#ifdef PAPERLAB_CUDA_HEADERS
  if (torch::cuda::is_available()) c10::cuda::CUDACachingAllocator::emptyCache();
  return Napi::Boolean::New(info.Env(), true);
#else
  return Napi::Boolean::New(info.Env(), false);
#endif
}

// The GPU's name and the CUDA versions, read through the driver and runtime libraries that
// libtorch_cuda already loaded (dlsym: their C entry points are stable across CUDA versions, and
// no CUDA header or link flag is needed).
int phdrFind(struct dl_phdr_info* i, size_t, void* out) {
  if (i->dlpi_name && std::strstr(i->dlpi_name, "libcudart")) { *static_cast<std::string*>(out) = i->dlpi_name; return 1; }
  return 0;
}
void cudaDetails(Napi::Object o) {
  Napi::Env env = o.Env();
  o.Set("gpu", env.Null());
  o.Set("cudaRuntime", env.Null());
  o.Set("cudaDriver", env.Null());
  if (!torch::cuda::is_available()) return;
  auto ver = [](int v) { return std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10); };
  if (void* cu = dlopen("libcuda.so.1", RTLD_LAZY | RTLD_NOLOAD)) {
    using GetFn = int (*)(int*, int);
    using NameFn = int (*)(char*, int, int);
    using VerFn = int (*)(int*);
    auto get = reinterpret_cast<GetFn>(dlsym(cu, "cuDeviceGet"));
    auto name = reinterpret_cast<NameFn>(dlsym(cu, "cuDeviceGetName"));
    auto drv = reinterpret_cast<VerFn>(dlsym(cu, "cuDriverGetVersion"));
    int dev = 0, v = 0;
    char buf[256] = {0};
    if (get && name && get(&dev, 0) == 0 && name(buf, sizeof buf - 1, dev) == 0) o.Set("gpu", std::string(buf));
    if (drv && drv(&v) == 0) o.Set("cudaDriver", ver(v));
  }
  std::string rt;
  dl_iterate_phdr(phdrFind, &rt);
  if (!rt.empty()) if (void* h = dlopen(rt.c_str(), RTLD_LAZY | RTLD_NOLOAD)) {
    using VerFn = int (*)(int*);
    int v = 0;
    if (auto f = reinterpret_cast<VerFn>(dlsym(h, "cudaRuntimeGetVersion")); f && f(&v) == 0) o.Set("cudaRuntime", ver(v));
  }
}

// ---------------------------------------------------------------- autocast
// autocastSet(device 'cpu'|'cuda', enabled, dtype) -> [wasEnabled, previousDtype]: turns libtorch's
// autocast (torch.autocast) on or off for one device type; the boxed op calls go through the
// dispatcher, so its Autocast keys recast each op as torch.autocast does. The nesting count decides
// when the cast-weights cache is cleared (at the outermost exit, as torch.autocast's __exit__).
c10::DeviceType autocastDevice(Napi::Env env, const Napi::Value& v) {
  const std::string d = v.As<Napi::String>().Utf8Value();
  if (d == "cpu") return c10::DeviceType::CPU;
  if (d == "cuda") return c10::DeviceType::CUDA;
  throw Napi::TypeError::New(env, "autocast: device type must be 'cpu' or 'cuda', got '" + d + "'");
}
Napi::Value AutocastSet(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const c10::DeviceType dt = autocastDevice(env, info[0]);
  const bool on = info[1].ToBoolean();
  c10::ScalarType st;
  if (!parseDtype(info[2].As<Napi::String>().Utf8Value(), &st)) throw Napi::TypeError::New(env, "autocast: unknown dtype");
#if PAPERLAB_TORCH_AT_LEAST(2, 4)
  const bool was = at::autocast::is_autocast_enabled(dt);
  const c10::ScalarType prev = at::autocast::get_autocast_dtype(dt);
  at::autocast::set_autocast_enabled(dt, on);
  at::autocast::set_autocast_dtype(dt, st);
#else
  const bool cpu = dt == c10::DeviceType::CPU;
  const bool was = cpu ? at::autocast::is_cpu_enabled() : at::autocast::is_enabled();
  const c10::ScalarType prev = cpu ? at::autocast::get_autocast_cpu_dtype() : at::autocast::get_autocast_gpu_dtype();
  if (cpu) { at::autocast::set_cpu_enabled(on); at::autocast::set_autocast_cpu_dtype(st); }
  else { at::autocast::set_enabled(on); at::autocast::set_autocast_gpu_dtype(st); }
#endif
  Napi::Array r = Napi::Array::New(env, 2);
  r.Set(0u, Napi::Boolean::New(env, was));
  r.Set(1u, Napi::String::New(env, dtypeName(prev)));
  return r;
}
// autocastNesting(+1 | -1): enter or leave an autocast region; the outermost exit clears the cache.
Napi::Value AutocastNesting(const Napi::CallbackInfo& info) {
  if (info[0].As<Napi::Number>().Int32Value() > 0) return Napi::Number::New(info.Env(), at::autocast::increment_nesting());
  const int n = at::autocast::decrement_nesting();
  if (n == 0) at::autocast::clear_cache();
  return Napi::Number::New(info.Env(), n);
}

Napi::Value LiveTensors(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(g_live));
}
// memoryStats(): where native memory is, for leak hunts and the RSS tests.
Napi::Value MemoryStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  dripFlush();
  Napi::Object o = Napi::Object::New(env);
  o.Set("liveTensors", static_cast<double>(g_live));
  o.Set("wrappers", static_cast<double>(g_slots.size() - g_freeSlots.size()));  // slots in use (= liveTensors)
  struct mallinfo2 mi = mallinfo2();
  o.Set("mallocHeap", static_cast<double>(mi.arena));      // brk heap + arenas (bytes)
  o.Set("mallocInUse", static_cast<double>(mi.uordblks));  // allocated from them
  o.Set("mallocFree", static_cast<double>(mi.fordblks));   // free inside them (fragmentation)
  o.Set("mallocMmap", static_cast<double>(mi.hblkhd));     // mmapped blocks
  size_t cached = 0, liveBlocks = 0;
  if (g_alloc) {
    std::lock_guard<std::mutex> g(g_alloc->mu);
    cached = g_alloc->cached;
    liveBlocks = g_alloc->live.size();
  }
  o.Set("cacheBytes", static_cast<double>(cached));
  o.Set("cacheLiveBlocks", static_cast<double>(liveBlocks));
  return o;
}
Napi::Value Version(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("torch", TORCH_VERSION);
  o.Set("cuda", torch::cuda::is_available());
#ifdef PAPERLAB_CUDA_BUILD
  o.Set("cudaBuild", true);
#else
  o.Set("cudaBuild", false);
#endif
  o.Set("deviceCount", static_cast<double>(torch::cuda::is_available() ? torch::cuda::device_count() : 0));
  cudaDetails(o);
  o.Set("threads", at::get_num_threads());
  o.Set("config", at::show_config());
  return o;
}

}  // namespace

Napi::Object InitAll(Napi::Env env, Napi::Object exports) {
  // Large tensor blocks: cached by our allocator (above), and its blocks of 128 KiB and more are
  // mappings of their own, so they go back to the OS when freed (engine.md, pitfalls). malloc's own
  // threshold is fixed (not glibc's dynamic one, which rises to 32 MB) but at 4 MiB, with the heap
  // trimmed only past 8 MiB free: at 128 KiB (until issue #27), every small threaded OpenBLAS gemm
  // paid a fresh 516 KB mapping and its page faults (a [256,32]x[32,64] float64 matmul: 80 µs at 2
  // threads against PyTorch's 43 µs; 39 µs with the heap), and so did V8's array buffers.
  // PAPERLAB_MMAP_THRESHOLD=<bytes>|off, PAPERLAB_CPU_CACHE_MB=<MiB>|0 and
  // PAPERLAB_CPU_CACHE_MIN=<bytes> (smallest cached block, 64; at least 8) override.
  if (const char* d = std::getenv("PAPERLAB_DRIP")) g_dripMax = static_cast<size_t>(std::max(0L, std::atol(d)));
  const char* mm = std::getenv("PAPERLAB_MMAP_THRESHOLD");
  const int threshold = !mm ? 4 << 20 : std::strcmp(mm, "off") == 0 ? 0 : std::max(0, std::atoi(mm));
  if (threshold > 0) {
    mallopt(M_MMAP_THRESHOLD, threshold);
    mallopt(M_TRIM_THRESHOLD, 2 * threshold);
  }
  const char* cacheMb = std::getenv("PAPERLAB_CPU_CACHE_MB");
  const long mb = cacheMb ? std::atol(cacheMb) : 1024;
  if (mb > 0 && !g_alloc) {
    g_alloc = new CachingCpuAllocator(static_cast<size_t>(mb) << 20);
    if (const char* mn = std::getenv("PAPERLAB_CPU_CACHE_MIN")) if (std::atol(mn) >= 8) g_alloc->kMin = static_cast<size_t>(std::atol(mn));
    CachingCpuAllocator::self = g_alloc;
    c10::SetCPUAllocator(g_alloc, /*priority=*/10);
  }
  exports.Set("releaseCachedMemory", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
    dripFlush();
    return Napi::Number::New(info.Env(), g_alloc ? static_cast<double>(g_alloc->release()) : 0.0);
  }));
  exports.Set("freeSlots", Napi::Function::New(env, FreeSlots));
  exports.Set("free", Napi::Function::New(env, Free));
  exports.Set("escape", Napi::Function::New(env, Escape));
  exports.Set("tDtype", Napi::Function::New(env, TDtype));
  exports.Set("tShape", Napi::Function::New(env, TShape));
  exports.Set("tNdim", Napi::Function::New(env, TNdim));
  exports.Set("tNumel", Napi::Function::New(env, TNumel));
  exports.Set("tDevice", Napi::Function::New(env, TDevice));
  exports.Set("tRequiresGrad", Napi::Function::New(env, TRequiresGrad));
  exports.Set("tSetRequiresGrad", Napi::Function::New(env, TSetRequiresGrad));
  exports.Set("tIsLeaf", Napi::Function::New(env, TIsLeaf));
  exports.Set("tGrad", Napi::Function::New(env, TGrad));
  exports.Set("tSetGrad", Napi::Function::New(env, TSetGrad));
  exports.Set("tSame", Napi::Function::New(env, TSame));
  exports.Set("tToArray", Napi::Function::New(env, TToArray));
  exports.Set("tItem", Napi::Function::New(env, TItem));
  exports.Set("setTensorFactory", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
    if (info[0].IsFunction()) { g_tensorFactory = Napi::Persistent(info[0].As<Napi::Function>()); g_tensorFactory.SuppressDestruct(); }
    return info.Env().Undefined();
  }));
  exports.Set("op", Napi::Function::New(env, Op));
  exports.Set("opSchema", Napi::Function::New(env, OpSchema));
  exports.Set("opInfo", Napi::Function::New(env, OpInfoFn));
  exports.Set("call", Napi::Function::New(env, Call));
  // setFastPaths(on) -> previous: the unboxed fast paths on or off (test/core/fastpath.test.ts)
  exports.Set("setFastPaths", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
    const bool was = g_fastPaths;
    g_fastPaths = info[0].ToBoolean().Value();
    return Napi::Boolean::New(info.Env(), was);
  }));
  exports.Set("fastPathHits", Napi::Function::New(env, [](const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), g_fastHits); }));
  exports.Set("fromArray", Napi::Function::New(env, FromArray));
  exports.Set("backward", Napi::Function::New(env, Backward));
  exports.Set("grad", Napi::Function::New(env, Grad));
  exports.Set("setGradEnabled", Napi::Function::New(env, SetGradEnabled));
  exports.Set("isGradEnabled", Napi::Function::New(env, IsGradEnabled));
  exports.Set("setNumThreads", Napi::Function::New(env, SetNumThreads));
  exports.Set("blasStats", Napi::Function::New(env, BlasStatsJs));
  exports.Set("getNumThreads", Napi::Function::New(env, GetNumThreads));
  exports.Set("manualSeed", Napi::Function::New(env, ManualSeed));
  exports.Set("getRngState", Napi::Function::New(env, GetRngState));
  exports.Set("setRngState", Napi::Function::New(env, SetRngState));
  exports.Set("liveTensors", Napi::Function::New(env, LiveTensors));
  exports.Set("cudaDeviceCount", Napi::Function::New(env, CudaDeviceCount));
  exports.Set("cudaSynchronize", Napi::Function::New(env, CudaSynchronize));
  exports.Set("cudaManualSeed", Napi::Function::New(env, CudaManualSeed));
  exports.Set("cudaMemory", Napi::Function::New(env, CudaMemory));
  exports.Set("cudaEmptyCache", Napi::Function::New(env, CudaEmptyCache));
  exports.Set("autocastSet", Napi::Function::New(env, AutocastSet));
  exports.Set("autocastNesting", Napi::Function::New(env, AutocastNesting));
  exports.Set("setDeviceErrorClass", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
    if (info[0].IsFunction()) { g_deviceErrorCtor = Napi::Persistent(info[0].As<Napi::Function>()); g_deviceErrorCtor.SuppressDestruct(); }
    return info.Env().Undefined();
  }));
  exports.Set("memoryStats", Napi::Function::New(env, MemoryStats));
  exports.Set("version", Napi::Function::New(env, Version));
  exports.Set("watchInterrupts", Napi::Function::New(env, WatchInterrupts));
  exports.Set("unwatchInterrupts", Napi::Function::New(env, UnwatchInterrupts));
  exports.Set("pendingInterrupt", Napi::Function::New(env, PendingInterrupt));
  paperlab::InitDistributed(env, exports, {[](const Napi::Value& v) -> at::Tensor { if (!v.IsNumber()) throw Napi::TypeError::New(v.Env(), "c10d: expected a Tensor"); return tensorOf(v.Env(), v); },
                                           [](Napi::Env e, at::Tensor t) -> Napi::Value { return Napi::Value(e, idValue(e, std::move(t))); }});
  return exports;
}

NODE_API_MODULE(paperlab_torch, InitAll)
