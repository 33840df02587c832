//! Device shadow (AWS) and device twin (Azure) behind one reported/desired model.
