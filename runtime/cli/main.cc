// husk's entry point; everything lives in runtime/cli (dispatch.h) so it can be tested.
#include "runtime/cli/dispatch.h"

int main(int argc, char** argv) { return husk::cli::Main(argc, argv); }
