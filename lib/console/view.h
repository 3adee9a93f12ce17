// What the console reads: a backend's view (lib/backend), under the short names lib/console uses.
#pragma once

#include <functional>
#include <string>

#include "backend/view.h"

namespace stunbox::console {

using backend::LinkState;
using backend::MempoolView;
using backend::PortStats;
using backend::QueueView;
using backend::View;
using backend::WorkerInfo;
using backend::WorkerUsage;
using backend::XStat;

// The daemon's reload (re-read the file, apply what is live): the one-line answer.
using Reload = std::function<std::string()>;

}  // namespace stunbox::console
