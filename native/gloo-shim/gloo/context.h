// Shim (see native/gloo-shim/README.md): gloo::Context is only held by pointer in torch's headers.
#pragma once
#include <memory>
namespace gloo { class Context; }
