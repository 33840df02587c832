//! The MQTT 3.1.1 session engine (sans-I/O).
