{
  "targets": [{
    "target_name": "paperlab_torch",
    "sources": ["native/addon.cpp", "native/distributed.cpp", "native/blas.cpp"],
    "include_dirs": [
      "<!@(node -p \"require('node-addon-api').include_dir\")",
      "<!@(node native/find-libtorch.cjs include)"
    ],
    "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "USE_C10D_GLOO", "<!@(node native/find-libtorch.cjs defines)"],
    "cflags!": ["-fno-exceptions", "-fno-rtti"],
    "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17", "-std=gnu++20"],
    "cflags_cc": ["<!@(node native/find-libtorch.cjs std)", "-fexceptions", "-frtti", "-O2", "-Wno-unused-parameter", "-Wno-deprecated-declarations",
                  "-idirafter", "<!(node -p \"require('path').resolve('native/gloo-shim')\")"],
    "libraries": [
      "-L<!@(node native/find-libtorch.cjs lib)",
      "-Wl,-rpath,<!@(node native/find-libtorch.cjs lib)",
      "-Wl,--no-as-needed", "-ltorch", "-ltorch_cpu", "-lc10", "<!@(node native/find-libtorch.cjs libs)", "-Wl,--as-needed", "-ldl"
    ]
  }]
}
