// torchwb: inspect, run and (later) time saved PyTorch models from the shell.
#include "commands.h"

#include <iostream>

int main(int argc, char** argv) {
    return twb::cli::run(argc, argv, std::cout, std::cerr);
}
