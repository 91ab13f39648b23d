#include "ablation/export.h"
