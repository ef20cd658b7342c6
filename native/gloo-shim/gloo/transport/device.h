// Shim (see native/gloo-shim/README.md): devices and buffers are only held by pointer in torch's headers.
#pragma once
#include <memory>
namespace gloo { namespace transport { class Device; class UnboundBuffer; } }
