// c10d process groups for the addon (native/distributed.cpp). addon.cpp owns the Tensor wrapper and
// hands its two conversions over, so this file needs none of its internals.
#pragma once
#include <napi.h>
#include <ATen/ATen.h>

namespace paperlab {
struct TensorBridge {
  at::Tensor (*unwrap)(const Napi::Value& v);        // a JS Tensor's at::Tensor (throws a TypeError otherwise)
  Napi::Value (*wrap)(Napi::Env env, at::Tensor t);  // a new JS Tensor over t
};
void InitDistributed(Napi::Env env, Napi::Object exports, TensorBridge bridge);
}  // namespace paperlab
