// The fuzz build compiles stb's decoders and resizer from their headers, so that they are
// instrumented like our code (Debian's libstb.so is not) and a fault inside them is seen.
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_RESIZE_IMPLEMENTATION
#include <stb_image.h>
#include <stb_image_resize.h>
