print("ringkv")
